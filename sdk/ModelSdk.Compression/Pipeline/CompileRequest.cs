using ModelSdk.Compression.Passes;

namespace ModelSdk.Compression.Pipeline;

/// <summary>Everything that determines a compiled artifact. Each field enters the cache key.</summary>
public sealed record CompileRequest(string CheckpointPath, string TokenizerPath, string SdkVersion)
{
    /// <summary>Compression passes, in order (see <see cref="PassRegistry"/>).</summary>
    public IReadOnlyList<IModelPass> Passes { get; init; } = [];

    /// <summary>Calibration text for passes that need one (<see cref="IModelPass.NeedsCalibration"/>).</summary>
    public string? CalibrationPath { get; init; }

    public CalibrationSettings Calibration { get; init; } = CalibrationSettings.Default;

    /// <summary>Evaluation text: when set, the compiled model is evaluated against the uncompressed one and the manifest gets metrics.</summary>
    public string? EvaluationPath { get; init; }
}
