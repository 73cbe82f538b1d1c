using ModelSdk.Diagnostics;

namespace ModelSdk.Compression.Passes;

/// <summary>
/// What a pass gets besides the model: calibration token sequences (tokenized once, on first use), the uncompressed
/// reference model, logging and progress, and cancellation.
/// </summary>
public sealed class PassContext
{
    private readonly Lazy<CalibrationText>? _calibration;
    private readonly Func<WorkingModel>? _reference;
    private readonly Action<string> _log;
    private readonly Lock _progressLock = new();
    private int _lastDecile = -1;
    private string? _progressOwner;
    private readonly Dictionary<IModelPass, SortedDictionary<string, string>> _results = new(ReferenceEqualityComparer.Instance);

    public PassContext(Func<CalibrationText>? calibration = null, Func<WorkingModel>? reference = null, Action<string>? log = null,
        CancellationToken cancellationToken = default)
    {
        _calibration = calibration is null ? null : new Lazy<CalibrationText>(calibration);
        _reference = reference;
        _log = log ?? (_ => { });
        CancellationToken = cancellationToken;
    }

    public CancellationToken CancellationToken { get; }

    public bool HasCalibration => _calibration is not null;

    /// <summary>The calibration sequences; MSDK1014 when the build was given no calibration data.</summary>
    public CalibrationText Calibration
        => _calibration?.Value
            ?? throw new ModelSdkException(DiagnosticCodes.CalibrationDataInvalid, "This compression needs calibration data, and none was given (CalibrationData / --calibration).");

    /// <summary>The model as imported, before any pass (fp32, read-only). Disposed by the compiler.</summary>
    public WorkingModel Reference => _reference?.Invoke() ?? throw new InvalidOperationException("No reference model in this context.");

    /// <summary>
    /// Records a fact about a pass's run for the manifest (<c>provenance.passes[i].results</c>), e.g. a training pass's
    /// final loss. Values must be deterministic (no timings): artifacts stay byte-for-byte reproducible.
    /// </summary>
    public void RecordResult(IModelPass pass, string key, string value)
    {
        lock (_progressLock)
        {
            if (!_results.TryGetValue(pass, out var results)) _results[pass] = results = new SortedDictionary<string, string>(StringComparer.Ordinal);
            results[key] = value;
        }
    }

    /// <summary>The results <paramref name="pass"/> recorded (null when none).</summary>
    public IReadOnlyDictionary<string, string>? ResultsOf(IModelPass pass)
    {
        lock (_progressLock) return _results.TryGetValue(pass, out var results) ? new SortedDictionary<string, string>(results, StringComparer.Ordinal) : null;
    }

    /// <summary>A message for the build log (a high-importance message in MSBuild, a line on stderr in the CLI).</summary>
    public void Log(string message) => _log(message);

    /// <summary>
    /// Reports the fraction done (0..1) of <paramref name="pass"/>'s work; logs "pass: 40%" each time another tenth is
    /// complete, so a long pass shows it is alive without flooding the log. Also checks for cancellation. Thread-safe.
    /// </summary>
    public void ReportProgress(string pass, double fraction)
    {
        CancellationToken.ThrowIfCancellationRequested();
        lock (_progressLock) Progress(pass, fraction);
    }

    private void Progress(string pass, double fraction)
    {
        if (_progressOwner != pass)
        {
            _progressOwner = pass;
            _lastDecile = -1;
        }
        var decile = (int)Math.Floor(Math.Clamp(fraction, 0, 1) * 10);
        if (decile <= _lastDecile) return;
        _lastDecile = decile;
        if (decile > 0) _log($"{pass}: {decile * 10}%");
    }
}
