using System;

namespace ModelSdk.Generators.Parsing
{
    /// <summary>A well-formed JSON document that is not a usable manifest; becomes MSDK1501 at <see cref="Position"/>.</summary>
    internal sealed class ManifestException : Exception
    {
        public ManifestException(string message, int position)
            : base(message)
        {
            Position = position;
        }

        public int Position { get; }
    }
}
