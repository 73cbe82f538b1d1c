namespace ModelSdk;

/// <summary>How a language model is loaded.</summary>
public sealed class LoadOptions
{
    /// <summary>Threads one forward pass uses (the caller's thread included); null uses <see cref="Environment.ProcessorCount"/>.</summary>
    public int? Threads { get; set; }
}
