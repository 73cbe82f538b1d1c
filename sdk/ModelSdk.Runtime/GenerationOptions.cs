using ModelSdk.Diagnostics;

namespace ModelSdk;

/// <summary>How a language model generates text. The defaults are llama2.c's <c>run</c> defaults, with 256 new tokens.</summary>
public sealed class GenerationOptions
{
    /// <summary>The most tokens to generate, the prompt not counted. 0 generates nothing.</summary>
    public int MaxTokens { get; set; } = 256;

    /// <summary>0 picks the most likely token every time (greedy, deterministic); higher values give more varied text.</summary>
    public float Temperature { get; set; } = 1.0f;

    /// <summary>Nucleus sampling: sample among the most likely tokens whose probabilities add up to TopP; 1 samples from all.</summary>
    public float TopP { get; set; } = 0.9f;

    /// <summary>The sampler's seed: the same seed, prompt and options give the same text. Null seeds from the clock.</summary>
    public ulong? Seed { get; set; }

    /// <summary>Generation stops before the first occurrence of any of these strings, which are not part of the output.</summary>
    public IReadOnlyList<string> StopSequences { get; set; } = [];

    /// <summary>Throws MSDK3002 when an option is out of range.</summary>
    internal void Validate()
    {
        var problems = new List<string>();
        if (MaxTokens < 0) problems.Add($"MaxTokens is {MaxTokens}; it must be 0 or more");
        if (!(Temperature >= 0) || float.IsInfinity(Temperature)) problems.Add($"Temperature is {Temperature}; it must be a finite number ≥ 0");
        if (!(TopP > 0 && TopP <= 1)) problems.Add($"TopP is {TopP}; it must be in (0, 1]");
        if (StopSequences is null) problems.Add("StopSequences is null; use an empty list");
        else if (StopSequences.Any(string.IsNullOrEmpty)) problems.Add("StopSequences contains a null or empty string");
        if (problems.Count > 0)
            throw new ModelSdkException(DiagnosticCodes.InvalidGenerationOptions, $"Invalid generation options: {string.Join("; ", problems)}.");
    }
}
