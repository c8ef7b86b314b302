namespace DiveAspire.Backend.Revocation;

/// <summary>The shared revocation store did not acknowledge an operation; the endpoint answers 503.</summary>
public sealed class RevocationStoreUnavailableException(string message, Exception? inner = null) : Exception(message, inner);
