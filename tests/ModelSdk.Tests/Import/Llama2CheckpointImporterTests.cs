using ModelSdk.Compression.Import;
using ModelSdk.Diagnostics;
using ModelSdk.Tensors;

namespace ModelSdk.Tests.Import;

public sealed class Llama2CheckpointImporterTests
{
    [Fact]
    public void ReadsTheRealCheckpoint()
    {
        var config = Llama2CheckpointImporter.ReadConfig(CheckpointFiles.Checkpoint);
        Assert.Equal((288, 768, 6, 6, 6, 32000, 256, true),
            (config.Dim, config.HiddenDim, config.Layers, config.Heads, config.KvHeads, config.VocabSize, config.ContextLength, config.SharedClassifier));

        using var model = Llama2CheckpointImporter.Import(CheckpointFiles.Checkpoint);
        Assert.Equal(2 + 9 * 6, model.Tensors.Count); // embedding, final norm, 9 per layer; the classifier is shared
        Assert.Equal(15_191_712, model.Tensors.Sum(t => t.Data.Length) / 4);
        Assert.Equal([32000L, 288L], model.Tensors.Single(t => t.Name == TensorNames.TokenEmbedding).Shape);
    }

    public static TheoryData<int, int, string> BadHeaders => new()
    {
        { 0, 1 << 30, "MSDK1002" },   // absurd dim
        { 0, -288, "MSDK1002" },      // negative dim
        { 3, 7, "MSDK1002" },         // heads do not divide dim
        { 4, 4, "MSDK1002" },         // kv heads do not divide heads
        { 6, 0, "MSDK1002" },         // no context
        { 2, 7, "MSDK1003" },         // plausible header, wrong size for it
        { 5, int.MinValue, "MSDK1002" },
    };

    [Theory]
    [MemberData(nameof(BadHeaders))]
    public void BadHeader_IsRejectedWithItsCode(int field, int value, string code)
    {
        var folder = CheckpointFiles.TempFolder();
        var path = CheckpointFiles.WithHeader(folder, new FileInfo(CheckpointFiles.Checkpoint).Length, (field, value));
        var error = Assert.Throws<ModelSdkException>(() => Llama2CheckpointImporter.ReadConfig(path));
        Assert.Equal(code, error.Code.Id);
        Assert.Equal(path, error.FilePath);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(27)]
    [InlineData(28)]
    [InlineData(1_000_000)]
    public void TruncatedFile_IsRejected(long length)
    {
        var path = CheckpointFiles.WithHeader(CheckpointFiles.TempFolder(), length);
        var error = Assert.Throws<ModelSdkException>(() => Llama2CheckpointImporter.ReadConfig(path));
        Assert.Equal(length < 28 ? "MSDK1002" : "MSDK1003", error.Code.Id);
    }

    [Fact]
    public void MissingFile_IsMSDK1001()
        => Assert.Equal("MSDK1001", Assert.Throws<ModelSdkException>(() => Llama2CheckpointImporter.ReadConfig("no/such/model.bin")).Code.Id);
}
