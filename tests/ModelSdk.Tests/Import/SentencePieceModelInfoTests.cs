using ModelSdk.Compression.Import;
using ModelSdk.Diagnostics;

namespace ModelSdk.Tests.Import;

public sealed class SentencePieceModelInfoTests
{
    [Fact]
    public void ReadsTheLlamaTokenizer()
        => Assert.Equal(new SentencePieceModelInfo(32000, 1, 2), SentencePieceModelInfo.Read(CheckpointFiles.Tokenizer));

    [Fact]
    public void EveryTruncationIsRejectedCleanly()
    {
        var bytes = File.ReadAllBytes(CheckpointFiles.Tokenizer);
        var random = new Random(7);
        for (var i = 0; i < 200; i++)
        {
            var length = random.Next(bytes.Length);
            var outcome = Record.Exception(() => SentencePieceModelInfo.Parse(bytes.AsSpan(0, length), "tokenizer.model"));
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
            var outcome = Record.Exception(() => SentencePieceModelInfo.Parse(bytes, "tokenizer.model"));
            Assert.Equal("MSDK1005", Assert.IsType<ModelSdkException>(outcome).Code.Id);
        }
    }
}
