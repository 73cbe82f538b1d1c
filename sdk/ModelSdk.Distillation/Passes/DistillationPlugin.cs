using ModelSdk.Compression.Passes;

namespace ModelSdk.Distillation.Passes;

/// <summary>What the build task finds in this assembly when a Model item sets <c>Distill="true"</c> (see <see cref="IPassPlugin"/>).</summary>
public sealed class DistillationPlugin : IPassPlugin
{
    public IReadOnlyList<PassDescriptor> Passes { get; } = [DistillPass.Descriptor];
}
