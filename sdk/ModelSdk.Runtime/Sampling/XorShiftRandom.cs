namespace ModelSdk.Runtime.Sampling;

/// <summary>llama2.c's xorshift* generator (<c>random_u32</c>, <c>random_f32</c>), so a seed gives run.c's sequence.</summary>
internal struct XorShiftRandom(ulong seed)
{
    /// <summary>Replaces a zero seed: xorshift's state 0 is a fixed point that would always produce 0.</summary>
    public const ulong ZeroSeedReplacement = 0x9E3779B97F4A7C15UL;

    public ulong State = seed == 0 ? ZeroSeedReplacement : seed;

    public uint NextUInt32()
    {
        State ^= State >> 12;
        State ^= State << 25;
        State ^= State >> 27;
        return (uint)((State * 0x2545F4914F6CDD1DUL) >> 32);
    }

    /// <summary>A float in [0, 1) from the top 24 bits.</summary>
    public float NextSingle() => (NextUInt32() >> 8) / 16777216.0f;
}
