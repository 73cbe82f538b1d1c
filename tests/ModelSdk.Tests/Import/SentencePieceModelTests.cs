using ModelSdk.Diagnostics;
using ModelSdk.Tokenizers;

namespace ModelSdk.Tests.Import;

public sealed class SentencePieceModelTests
{
    [Fact]
    public void ReadsTheLlamaTokenizer()
    {
        var model = SentencePieceModel.Read(CheckpointFiles.Tokenizer);
        Assert.Equal((32000, 1, 2), (model.PieceCount, model.BosId, model.EosId));
        Assert.Equal(("<unk>", SentencePieceModel.PieceType.Unknown), (model.Pieces[0], model.Types[0]));
        Assert.Equal(("<s>", SentencePieceModel.PieceType.Control), (model.Pieces[1], model.Types[1]));
        Assert.Equal(("<0x0A>", SentencePieceModel.PieceType.Byte), (model.Pieces[13], model.Types[13]));
        Assert.Equal(("▁the", SentencePieceModel.PieceType.Normal), (model.Pieces[278], model.Types[278]));
    }

    [Fact]
    public void MissingFile_IsMSDK1004()
        => Assert.Equal("MSDK1004", Assert.Throws<ModelSdkException>(() => SentencePieceModel.Read(Path.Combine(Path.GetTempPath(), $"{Guid.NewGuid():N}.model"))).Code.Id);

    [Fact]
    public void EveryTruncationIsRejectedCleanly()
    {
        var bytes = File.ReadAllBytes(CheckpointFiles.Tokenizer);
        var random = new Random(7);
        for (var i = 0; i < 50; i++)
        {
            var length = random.Next(bytes.Length);
            var outcome = Record.Exception(() => SentencePieceModel.Parse(bytes.AsSpan(0, length), "tokenizer.model"));
            // A prefix may happen to be a valid smaller model; anything else must be the documented error.
            if (outcome is not null) Assert.Equal("MSDK1005", Assert.IsType<ModelSdkException>(outcome).Code.Id);
        }
    }

    [Fact]
    public void RandomBytesAreRejectedCleanly()
    {
        var random = new Random(11);
        for (var i = 0; i < 500; i++)
        {
            var bytes = new byte[random.Next(1, 256)];
            random.NextBytes(bytes);
            var outcome = Record.Exception(() => SentencePieceModel.Parse(bytes, "tokenizer.model"));
            Assert.Equal("MSDK1005", Assert.IsType<ModelSdkException>(outcome).Code.Id);
        }
    }
}
