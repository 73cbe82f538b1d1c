namespace ModelSdk.Runtime.Kernels.Reference;

/// <summary>llama2.c's <c>matmul</c>: one row at a time, one scalar accumulator. The readable definition of <see cref="Cpu.MatVec"/>.</summary>
internal static unsafe class MatVecReference
{
    public static void Rows(float* w, float* x, float* y, int cols, int rowStart, int rowEnd, bool accumulate)
    {
        for (var r = rowStart; r < rowEnd; r++)
        {
            var row = w + (long)r * cols;
            float sum = 0;
            for (var c = 0; c < cols; c++) sum += row[c] * x[c];
            if (accumulate) y[r] += sum;
            else y[r] = sum;
        }
    }
}
