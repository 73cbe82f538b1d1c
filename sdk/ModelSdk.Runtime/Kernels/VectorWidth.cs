using System.Runtime.Intrinsics;

namespace ModelSdk.Runtime.Kernels;

/// <summary>
/// The SIMD register width a CPU kernel runs with. Every fast kernel takes one explicitly, so tests can run the
/// AVX-512, AVX2 and 128-bit paths side by side on one machine; production code passes <see cref="VectorWidths.Best"/>.
/// </summary>
internal enum VectorWidth
{
    /// <summary>Plain scalar loops (also what a width falls back to when the hardware lacks it).</summary>
    Scalar = 0,
    V128 = 128,
    V256 = 256,
    V512 = 512,
}

internal static class VectorWidths
{
    /// <summary>The widest width the hardware accelerates: Vector512 where AVX-512 is usable, else Vector256, else Vector128.</summary>
    public static VectorWidth Best { get; } =
        Vector512.IsHardwareAccelerated ? VectorWidth.V512
        : Vector256.IsHardwareAccelerated ? VectorWidth.V256
        : Vector128.IsHardwareAccelerated ? VectorWidth.V128
        : VectorWidth.Scalar;

    public static bool IsAccelerated(VectorWidth width) => width switch
    {
        VectorWidth.V512 => Vector512.IsHardwareAccelerated,
        VectorWidth.V256 => Vector256.IsHardwareAccelerated,
        VectorWidth.V128 => Vector128.IsHardwareAccelerated,
        _ => true,
    };

    /// <summary>Every width this machine accelerates, widest first (what the kernel tests loop over).</summary>
    public static IReadOnlyList<VectorWidth> Accelerated { get; } =
        new[] { VectorWidth.V512, VectorWidth.V256, VectorWidth.V128, VectorWidth.Scalar }.Where(IsAccelerated).ToArray();

    /// <summary>Checks a requested width is usable here; a width the hardware lacks would run emulated, many times slower.</summary>
    public static VectorWidth Validate(VectorWidth width)
        => IsAccelerated(width) ? width
            : throw new PlatformNotSupportedException($"Vector width {width} is not hardware accelerated on this machine.");
}
