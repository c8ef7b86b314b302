namespace DiveAspire.Topology;

public enum Membership { Nato, Partner }

/// <summary>A nation that can run a DIVE instance. <see cref="Offset"/> drives every port of that instance.</summary>
public sealed record Country(
    string Code,
    string Name,
    int Offset,
    Membership Membership,
    string Locale,
    string TimeZone,
    int? NatoJoinYear)
{
    public string LowerCode => Code.ToLowerInvariant();
}
