namespace ModelSdk.Compression.Pipeline;

/// <summary>Everything that determines a compiled artifact. Each field enters the cache key.</summary>
public sealed record CompileRequest(string CheckpointPath, string TokenizerPath, string SdkVersion);
