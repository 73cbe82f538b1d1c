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

    /// <summary>The real tokenizer (32000 pieces) beside a checkpoint whose vocab_size is 16: the build refuses the pair.</summary>
    [Fact]
    public void TokenizerOfAnotherVocabulary_IsMSDK1008()
    {
        var folder = CheckpointFiles.TempFolder();
        try
        {
            var config = new ModelSdk.Architecture.LlamaConfig
            {
                Dim = 8, HiddenDim = 16, Layers = 1, Heads = 2, KvHeads = 2, VocabSize = 16, ContextLength = 4, SharedClassifier = true,
            };
            var checkpoint = Path.Combine(folder, "tiny.bin");
            var bytes = new byte[ModelSdk.Compression.Import.Llama2CheckpointImporter.ExpectedLength(config)];
            int[] header = [config.Dim, config.HiddenDim, config.Layers, config.Heads, config.KvHeads, config.VocabSize, config.ContextLength];
            Buffer.BlockCopy(header, 0, bytes, 0, 28);
            File.WriteAllBytes(checkpoint, bytes);
            var request = new ModelSdk.Compression.Pipeline.CompileRequest(checkpoint, CheckpointFiles.Tokenizer, "test");
            var error = Assert.Throws<ModelSdkException>(() => ModelSdk.Compression.Pipeline.ModelCompiler.Inspect(request));
            Assert.Equal(DiagnosticCodes.TokenizerVocabularyMismatch, error.Code);
            Assert.Contains("32000", error.Message);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
