using System.Security.Claims;
using DiveAspire.Backend.Auth;
using DiveAspire.Backend.Instance;
using DiveAspire.Topology;
using AuthzClassification = DiveAspire.Backend.Authorization.Classification;

namespace DiveAspire.Backend.Catalog;

/// <summary>
/// Who may put which label on a document. An upload never labels above the uploader's clearance, never replaces a
/// document of another originating instance, and keeps the label of a document it replaces. Changing a label
/// (classification up or down, releasability, COI) is a relabel: an action of an admin of this, the originating, instance.
/// </summary>
public static class LabelPolicy
{
    public enum Verdict { New, SameLabel, Relabel }

    /// <summary>Why the upload is refused (403), else what it is.</summary>
    public static (Verdict Verdict, string? Refusal) Check(ClaimsPrincipal user, Resource? existing, Resource proposed, InstanceInfo instance)
    {
        if (!AuthzClassification.Dominates(user.Clearance(), proposed.Classification))
        {
            return (Verdict.New, $"Classification {proposed.Classification} is above your clearance {AuthzClassification.Normalise(user.Clearance())}");
        }
        if (existing is null)
        {
            return (Verdict.New, null);
        }
        if (!string.Equals(existing.Instance, instance.Code, StringComparison.OrdinalIgnoreCase))
        {
            return (Verdict.Relabel, $"Resource '{existing.ResourceId}' originates from {existing.Instance}; only {existing.Instance} may replace it");
        }
        if (SameLabel(existing, proposed))
        {
            return (Verdict.SameLabel, null);
        }
        return IsInstanceAdmin(user, instance)
            ? (Verdict.Relabel, null)
            : (Verdict.Relabel, $"Resource '{existing.ResourceId}' is labelled {existing.Classification}; changing the label of an existing document is an action of a {instance.Code} administrator");
    }

    public static bool SameLabel(Resource a, Resource b) =>
        a.Classification == b.Classification
        && a.ReleasabilityTo.ToHashSet(StringComparer.OrdinalIgnoreCase).SetEquals(b.ReleasabilityTo)
        && a.Coi.ToHashSet(StringComparer.OrdinalIgnoreCase).SetEquals(b.Coi);

    /// <summary>dive-admin from this instance's own realm (an admin of another realm administers its own instance only).</summary>
    public static bool IsInstanceAdmin(ClaimsPrincipal user, InstanceInfo instance) =>
        user.IsAdmin() && string.Equals(user.Realm(), instance.Code, StringComparison.OrdinalIgnoreCase);
}
