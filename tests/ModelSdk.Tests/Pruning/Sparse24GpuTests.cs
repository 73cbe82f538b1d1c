using ModelSdk.Artifacts;
using ModelSdk.Runtime.Gpu;
using ModelSdk.Runtime.Llama;
using ModelSdk.Tests.Gpu;

namespace ModelSdk.Tests.Pruning;

/// <summary>The GPU backend has no 2:4 kernels: a compressed 2:4 model is refused with the fix, never run some other way.</summary>
[Collection(Emulator.Collection)]
public sealed class Sparse24GpuTests
{
    [Theory]
    [InlineData("f32_sparse24")]
    [InlineData("q8_g32_sparse24")]
    public void GpuBackend_RefusesCompressed24Matrices_WithTheFix(string format)
    {
        var path = format == "f32_sparse24" ? PrunedModelTests.CompressedF32Artifact : PrunedModelTests.CompressedQ8Artifact;
        using var artifact = ModelArtifact.Open(path);
        Assert.Equal(format, artifact.Manifest.WeightFormat);
        using var weights = new ArtifactLlamaWeights(artifact, copyToHugePages: false);
        var error = Assert.Throws<NotSupportedException>(() => new GpuBackend(Emulator.Device, weights, GpuWeightFormat.F32, ownsDevice: false));
        Assert.Contains(format, error.Message);
        Assert.Contains("SparseStorage=\"dense\"", error.Message);
        Assert.Contains("ModelDevice.Cpu", error.Message);
    }
}
