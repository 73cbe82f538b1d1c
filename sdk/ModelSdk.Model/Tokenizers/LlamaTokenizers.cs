using Microsoft.ML.Tokenizers;

namespace ModelSdk.Tokenizers;

/// <summary>
/// Microsoft.ML.Tokenizers' encoder over a tokenizer.model, for text to ids (the build's calibration text, the
/// runtime's prompts). Its protobuf parser is a second reader of the untrusted file: whatever it throws on bytes that
/// <see cref="SentencePieceModel"/> accepted becomes the documented MSDK1005.
/// </summary>
/// <remarks>Read the bytes with <see cref="SentencePieceModel.Parse"/> first: it is the one that validates them.</remarks>
public static class LlamaTokenizers
{
    public static LlamaTokenizer Create(byte[] tokenizerModel, string? path)
    {
        try
        {
            using var stream = new MemoryStream(tokenizerModel, writable: false);
            return LlamaTokenizer.Create(stream, addBeginOfSentence: true, addEndOfSentence: false);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw SentencePieceModel.Invalid(path, $"Microsoft.ML.Tokenizers refuses it ({e.GetType().Name}: {e.Message})", e);
        }
    }
}
