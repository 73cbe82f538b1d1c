namespace ModelSdk.Tensors;

/// <summary>The names under which Llama tensors are stored in an artifact (Meta's checkpoint naming).</summary>
public static class TensorNames
{
    public const string TokenEmbedding = "tok_embeddings";
    public const string FinalNorm = "norm";
    public const string Classifier = "output";

    public static string AttentionNorm(int layer) => $"layers.{layer}.attention_norm";
    public static string Wq(int layer) => $"layers.{layer}.attention.wq";
    public static string Wk(int layer) => $"layers.{layer}.attention.wk";
    public static string Wv(int layer) => $"layers.{layer}.attention.wv";
    public static string Wo(int layer) => $"layers.{layer}.attention.wo";
    public static string FfnNorm(int layer) => $"layers.{layer}.ffn_norm";
    public static string W1(int layer) => $"layers.{layer}.feed_forward.w1";
    public static string W2(int layer) => $"layers.{layer}.feed_forward.w2";
    public static string W3(int layer) => $"layers.{layer}.feed_forward.w3";

    /// <summary>
    /// A low-rank matrix W = B·A [rows, cols] is stored as its two factors instead of itself: A [rank, cols], applied to
    /// the input first, under this name ...
    /// </summary>
    public static string LowRankA(string matrix) => matrix + ".lowrank_a";

    /// <summary>... and B [rows, rank], applied to A's output, under this one (the rank is their shared dimension).</summary>
    public static string LowRankB(string matrix) => matrix + ".lowrank_b";
}
