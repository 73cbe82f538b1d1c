using ModelSdk.Architecture;
using ModelSdk.Compression.Import;
using ModelSdk.Compression.Pipeline;
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
            var request = new CompileRequest(TinyCheckpoint(folder, vocab: 16), CheckpointFiles.Tokenizer, "test");
            var error = Assert.Throws<ModelSdkException>(() => ModelCompiler.Inspect(request));
            Assert.Equal(DiagnosticCodes.TokenizerVocabularyMismatch, error.Code);
            Assert.Contains("32000", error.Message);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>
    /// Three well-formed pieces and nothing else: a valid SentencePiece message, but not one Microsoft.ML.Tokenizers (the
    /// runtime's prompt encoder) can load. The build refuses it with MSDK1005 instead of producing an app that fails at Load.
    /// </summary>
    [Fact]
    public void TokenizerTheEncoderCannotLoad_FailsTheBuild()
    {
        var folder = CheckpointFiles.TempFolder();
        try
        {
            var tokenizer = Path.Combine(folder, "tokenizer.model");
            File.WriteAllBytes(tokenizer, [.. Piece("<unk>"), .. Piece("<s>"), .. Piece("</s>")]);
            Assert.Equal(3, SentencePieceModel.Read(tokenizer).PieceCount);
            var plan = ModelCompiler.Plan(new CompileRequest(TinyCheckpoint(folder, vocab: 3), tokenizer, "test"));
            var artifact = Path.Combine(folder, "tiny.msdk");
            var error = Assert.Throws<ModelSdkException>(() => ModelCompiler.Compile(plan, artifact));
            Assert.Equal(DiagnosticCodes.TokenizerInvalid, error.Code);
            Assert.NotNull(error.InnerException);
            Assert.False(File.Exists(artifact));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }

        static byte[] Piece(string text)
        {
            var utf8 = System.Text.Encoding.UTF8.GetBytes(text);
            return [0x0a, (byte)(utf8.Length + 2), 0x0a, (byte)utf8.Length, .. utf8];
        }
    }

    /// <summary>A llama2.c checkpoint of a tiny valid shape (weights all zero).</summary>
    private static string TinyCheckpoint(string folder, int vocab)
    {
        var config = new LlamaConfig
        {
            Dim = 8, HiddenDim = 16, Layers = 1, Heads = 2, KvHeads = 2, VocabSize = vocab, ContextLength = 4, SharedClassifier = true,
        };
        var path = Path.Combine(folder, "tiny.bin");
        var bytes = new byte[Llama2CheckpointImporter.ExpectedLength(config)];
        int[] header = [config.Dim, config.HiddenDim, config.Layers, config.Heads, config.KvHeads, config.VocabSize, config.ContextLength];
        Buffer.BlockCopy(header, 0, bytes, 0, 28);
        File.WriteAllBytes(path, bytes);
        return path;
    }
}
