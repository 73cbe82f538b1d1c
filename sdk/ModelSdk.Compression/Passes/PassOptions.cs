using System.Globalization;
using ModelSdk.Diagnostics;

namespace ModelSdk.Compression.Passes;

/// <summary>
/// Raw pass options as the user wrote them (Model item metadata, or CLI options mapped to the same names), with typed
/// getters that validate and name the valid choices in their MSDK1012 errors. Names are case-insensitive. The registry
/// checks that every given option was read by the pass, so an option that does not apply is an error, not ignored.
/// </summary>
public sealed class PassOptions
{
    private readonly Dictionary<string, string> _values;
    private readonly HashSet<string> _read = new(StringComparer.OrdinalIgnoreCase);

    public PassOptions(IEnumerable<KeyValuePair<string, string>>? values = null)
    {
        _values = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (key, value) in values ?? [])
            if (!string.IsNullOrWhiteSpace(value)) _values[key] = value.Trim();
    }

    public static PassOptions Empty => new();

    /// <summary>The names given (non-empty values).</summary>
    public IEnumerable<string> Names => _values.Keys;

    /// <summary>Names given that no getter has read.</summary>
    public IEnumerable<string> Unread => _values.Keys.Where(k => !_read.Contains(k));

    public bool Has(string name) => _values.ContainsKey(name);

    public string? GetString(string name)
    {
        _read.Add(name);
        return _values.TryGetValue(name, out var value) ? value : null;
    }

    /// <summary>An integer from <paramref name="choices"/> (when given), else <paramref name="defaultValue"/>.</summary>
    public int GetInt(string name, int defaultValue, IReadOnlyList<int>? choices = null, int min = int.MinValue, int max = int.MaxValue)
    {
        var text = GetString(name);
        if (text is null) return defaultValue;
        var valid = choices is null ? $"an integer in {min}..{max}" : $"one of {string.Join(", ", choices)}";
        if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value)
            || (choices is not null && !choices.Contains(value)) || value < min || value > max)
            throw Invalid(name, text, valid);
        return value;
    }

    /// <summary>A number (a trailing % divides by 100: "1%" is 0.01) in [min, max].</summary>
    public double GetDouble(string name, double defaultValue, double min = double.MinValue, double max = double.MaxValue)
    {
        var text = GetString(name);
        if (text is null) return defaultValue;
        return ParseNumber(text, out var value) && value >= min && value <= max
            ? value
            : throw Invalid(name, text, $"a number in {min.ToString(CultureInfo.InvariantCulture)}..{max.ToString(CultureInfo.InvariantCulture)}");
    }

    public bool GetBool(string name, bool defaultValue)
    {
        var text = GetString(name);
        if (text is null) return defaultValue;
        return text.ToLowerInvariant() switch
        {
            "true" or "yes" or "1" => true,
            "false" or "no" or "0" => false,
            _ => throw Invalid(name, text, "true, false"),
        };
    }

    /// <summary>One of <paramref name="choices"/> (compared case-insensitively, returned as spelled in the list).</summary>
    public string GetChoice(string name, string defaultValue, IReadOnlyList<string> choices)
    {
        var text = GetString(name);
        if (text is null) return defaultValue;
        return choices.FirstOrDefault(c => string.Equals(c, text, StringComparison.OrdinalIgnoreCase))
            ?? throw Invalid(name, text, string.Join(", ", choices));
    }

    /// <summary>Parses "0.5", "3%" (= 0.03) with the invariant culture.</summary>
    public static bool ParseNumber(string text, out double value)
    {
        var trimmed = text.Trim();
        var percent = trimmed.EndsWith('%');
        if (percent) trimmed = trimmed[..^1].TrimEnd();
        if (!double.TryParse(trimmed, NumberStyles.Float, CultureInfo.InvariantCulture, out value) || !double.IsFinite(value)) return false;
        if (percent) value /= 100;
        return true;
    }

    public static ModelSdkException Invalid(string name, string value, string valid)
        => new(DiagnosticCodes.InvalidCompressionOption, $"{name}=\"{value}\" is not valid: use {valid}.");
}
