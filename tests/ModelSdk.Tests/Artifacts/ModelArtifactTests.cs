using ModelSdk.Artifacts;
using ModelSdk.Compression.Pipeline;
using ModelSdk.Diagnostics;
using ModelSdk.Tensors;
using ModelSdk.Tests.Import;

namespace ModelSdk.Tests.Artifacts;

public sealed class ModelArtifactTests
{
    private static string CompileStories(string folder, string name = "a.msdk")
    {
        var path = Path.Combine(folder, name);
        var plan = ModelCompiler.Plan(new CompileRequest(CheckpointFiles.Checkpoint, CheckpointFiles.Tokenizer, "test"));
        ModelCompiler.Compile(plan, path);
        return path;
    }

    [Fact]
    public void CompiledArtifact_HoldsTheCheckpointsTensors_Aligned_AndIsReproducible()
    {
        var folder = CheckpointFiles.TempFolder();
        var first = CompileStories(folder, "a.msdk");
        var second = CompileStories(folder, "b.msdk");
        Assert.Equal(File.ReadAllBytes(first), File.ReadAllBytes(second)); // no timestamps, no paths
        Assert.Empty(Directory.GetFiles(folder, "*.tmp"));

        using var artifact = ModelArtifact.Open(first);
        Assert.Equal(288, artifact.Manifest.Config.Dim);
        Assert.Equal("checkpoint", artifact.Manifest.Provenance.Inputs[0].Role);
        Assert.Equal(ContentHash.OfFile(CheckpointFiles.Checkpoint), artifact.Manifest.Provenance.Inputs[0].Xxh128);
        Assert.All(artifact.Tensors, t => Assert.Equal(0, t.Offset % ArtifactFormat.Alignment));

        // The first embedding row is the 7 header ints later in the checkpoint: bytes 28.. of the file.
        var checkpoint = File.ReadAllBytes(CheckpointFiles.Checkpoint);
        var embedding = artifact.GetSpan<float>(TensorNames.TokenEmbedding, TensorType.F32);
        Assert.Equal(BitConverter.ToSingle(checkpoint, 28), embedding[0]);
        Assert.Equal(BitConverter.ToSingle(checkpoint, 28 + 4 * (32000 * 288 - 1)), embedding[^1]);
        Assert.Equal(File.ReadAllBytes(CheckpointFiles.Tokenizer), artifact.GetBytes("tokenizer.model").ToArray());
    }

    [Fact]
    public void SmallArtifact_RoundTrips()
    {
        var path = Path.Combine(CheckpointFiles.TempFolder(), "small.msdk");
        WriteSmall(path);
        using var artifact = ModelArtifact.Open(path);
        Assert.Equal([1f, 2f, 3f], artifact.GetSpan<float>("x", TensorType.F32).ToArray());
        Assert.Equal([9, 8], artifact.GetBytes("blob").ToArray());
        Assert.Throws<ModelSdkException>(() => artifact.GetSpan<float>("blob", TensorType.F32));
    }

    [Fact]
    public void EveryFlippedByte_IsRejected()
    {
        var path = Path.Combine(CheckpointFiles.TempFolder(), "small.msdk");
        WriteSmall(path);
        var original = File.ReadAllBytes(path);
        for (var i = 0; i < original.Length; i++)
        {
            var damaged = (byte[])original.Clone();
            damaged[i] ^= 0x5a;
            File.WriteAllBytes(path, damaged);
            var error = Assert.Throws<ModelSdkException>(() => ModelArtifact.Open(path).Dispose());
            Assert.True(error.Code.Id is "MSDK2002" or "MSDK2003", $"byte {i}: {error.Message}");
        }
    }

    [Fact]
    public void EveryTruncation_IsRejected()
    {
        var path = Path.Combine(CheckpointFiles.TempFolder(), "small.msdk");
        WriteSmall(path);
        var original = File.ReadAllBytes(path);
        for (var length = 0; length < original.Length; length += 7)
        {
            File.WriteAllBytes(path, original[..length]);
            Assert.Equal("MSDK2002", Assert.Throws<ModelSdkException>(() => ModelArtifact.Open(path).Dispose()).Code.Id);
        }
    }

    [Fact]
    public void MissingArtifact_IsMSDK2001()
        => Assert.Equal("MSDK2001", Assert.Throws<ModelSdkException>(() => ModelArtifact.Open("nowhere.msdk")).Code.Id);

    private static void WriteSmall(string path)
    {
        var writer = new ArtifactWriter();
        writer.Add("x", TensorType.F32, [3], TensorData.FromFloats([1f, 2f, 3f]));
        writer.Add("blob", TensorType.U8, [2], TensorData.FromBytes([9, 8]));
        writer.Write(path, new ArtifactManifest
        {
            Name = "small",
            Config = new Architecture.LlamaConfig { Dim = 8, HiddenDim = 16, Layers = 1, Heads = 2, KvHeads = 1, VocabSize = 4, ContextLength = 8, SharedClassifier = true },
            WeightFormat = "f32",
            Tokenizer = new TokenizerInfo { VocabSize = 4 },
            Provenance = new Provenance { SdkVersion = "test", Inputs = [], Passes = [] },
        });
    }
}
