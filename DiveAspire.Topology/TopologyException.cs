namespace DiveAspire.Topology;

/// <summary>A configuration problem an operator can fix; its message is shown as-is, without a stack trace.</summary>
public sealed class TopologyException(string message) : Exception(message);
