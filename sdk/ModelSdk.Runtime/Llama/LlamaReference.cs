using ModelSdk.Architecture;
using ModelSdk.Runtime.Kernels.Reference;

namespace ModelSdk.Runtime.Llama;

/// <summary>
/// llama2.c's <c>forward</c>, transcribed: scalar reference kernels, one thread, every step in the obvious order.
/// The readable definition that <see cref="LlamaSession"/>'s fused, multi-threaded, vectorized pass is tested against.
/// </summary>
internal sealed unsafe class LlamaReference
{
    private readonly LlamaWeights _w;
    private readonly LlamaConfig _c;
    private readonly float[] _x, _xb, _xb2, _hb, _hb2, _q, _att, _keyCache, _valueCache;

    public LlamaReference(LlamaWeights weights)
    {
        _w = weights;
        _c = weights.Config;
        _x = new float[_c.Dim];
        _xb = new float[_c.Dim];
        _xb2 = new float[_c.Dim];
        _hb = new float[_c.HiddenDim];
        _hb2 = new float[_c.HiddenDim];
        _q = new float[_c.Dim];
        _att = new float[_c.ContextLength];
        _keyCache = new float[(long)_c.Layers * _c.ContextLength * _c.KvDim];
        _valueCache = new float[(long)_c.Layers * _c.ContextLength * _c.KvDim];
    }

    /// <summary>Logits for the token after <paramref name="token"/> at <paramref name="pos"/> (earlier positions must have been run).</summary>
    public float[] Forward(int token, int pos)
    {
        var c = _c;
        int dim = c.Dim, kvDim = c.KvDim, hidden = c.HiddenDim, headSize = c.HeadSize, kvMul = c.Heads / c.KvHeads;
        var logits = new float[c.VocabSize];
        fixed (float* x = _x, xb = _xb, xb2 = _xb2, hb = _hb, hb2 = _hb2, q = _q, att = _att, keyCache = _keyCache, valueCache = _valueCache, outLogits = logits)
        {
            new ReadOnlySpan<float>(_w.TokenEmbedding + (long)token * dim, dim).CopyTo(_x);
            for (var l = 0; l < c.Layers; l++)
            {
                var layer = _w.Layers[l];
                RmsNormReference.Apply(xb, x, layer.AttentionNorm, dim, c.NormEps);

                var offset = ((long)l * c.ContextLength + pos) * kvDim;
                var k = keyCache + offset;
                var v = valueCache + offset;
                Apply(layer.Wq, xb, q);
                Apply(layer.Wk, xb, k);
                Apply(layer.Wv, xb, v);
                RopeReference.Apply(q, dim, headSize, pos, c.RopeTheta);
                RopeReference.Apply(k, kvDim, headSize, pos, c.RopeTheta);

                var layerCache = (long)l * c.ContextLength * kvDim;
                for (var h = 0; h < c.Heads; h++)
                {
                    var kvHead = h / kvMul;
                    AttentionReference.Head(q + h * headSize, keyCache + layerCache + kvHead * headSize, valueCache + layerCache + kvHead * headSize,
                        kvDim, headSize, pos + 1, att, xb2 + h * headSize);
                }

                Apply(layer.Wo, xb2, xb);
                for (var i = 0; i < dim; i++) x[i] += xb[i];

                RmsNormReference.Apply(xb, x, layer.FfnNorm, dim, c.NormEps);
                Apply(layer.W1, xb, hb);
                Apply(layer.W3, xb, hb2);
                SwiGluReference.Apply(hb, hb2, 0, hidden);
                Apply(layer.W2, hb, xb);
                for (var i = 0; i < dim; i++) x[i] += xb[i];
            }

            RmsNormReference.Apply(x, x, _w.FinalNorm, dim, c.NormEps);
            MatVecReference.Rows(_w.Classifier, x, outLogits, dim, 0, c.VocabSize, false);
        }
        return logits;
    }

    /// <summary>y = W·x for an fp32 matrix; a low-rank one as y = B·(A·x).</summary>
    private static void Apply(in LayerMatrix w, float* x, float* y)
    {
        if (!w.IsFactored)
        {
            MatVecReference.Rows(w.Outer.F32Data, x, y, w.Cols, 0, w.Rows, false);
            return;
        }
        var inner = new float[w.Rank];
        fixed (float* u = inner)
        {
            MatVecReference.Rows(w.Inner.F32Data, x, u, w.Cols, 0, w.Rank, false);
            MatVecReference.Rows(w.Outer.F32Data, u, y, w.Rank, 0, w.Rows, false);
        }
    }
}
