namespace ModelSdk.Compression.Calibration;

/// <summary>
/// One activation per calibration token, <c>Tokens × Width</c> row-major fp32: the tokens of all calibration sequences
/// one after the other (sequence boundaries live in <see cref="CalibrationForward"/>).
/// </summary>
public sealed class Activations
{
    public Activations(int tokens, int width) : this(tokens, width, new float[checked((long)tokens * width)]) { }

    public Activations(int tokens, int width, float[] data)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(tokens);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        if (data.LongLength != (long)tokens * width)
            throw new ArgumentException($"Expected {(long)tokens * width} values for {tokens} × {width}, got {data.LongLength}.", nameof(data));
        Tokens = tokens;
        Width = width;
        Data = data;
    }

    public int Tokens { get; }

    public int Width { get; }

    public float[] Data { get; }

    public Span<float> Row(int token) => Data.AsSpan(token * Width, Width);

    /// <summary>The first <paramref name="tokens"/> rows, copied.</summary>
    public Activations Prefix(int tokens)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(tokens, Tokens);
        return new Activations(tokens, Width, Data.AsSpan(0, tokens * Width).ToArray());
    }

    public Activations Clone() => new(Tokens, Width, (float[])Data.Clone());
}
