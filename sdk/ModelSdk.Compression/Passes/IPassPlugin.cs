namespace ModelSdk.Compression.Passes;

/// <summary>
/// Passes that live in their own assembly because of what they bring with them (ModelSdk.Distillation brings TorchSharp
/// and LibTorch). The build never references such an assembly: it loads it from the path its package's targets give
/// (<c>ModelSdkPassPlugin</c> items) and only when a Model item asks for one of its passes, then creates the passes
/// through this interface. An assembly holds one public class that implements it, with a public parameterless constructor.
/// </summary>
public interface IPassPlugin
{
    /// <summary>The passes this assembly provides (e.g. <c>distill</c>), found by <see cref="PassDescriptor.Name"/>.</summary>
    IReadOnlyList<PassDescriptor> Passes { get; }
}
