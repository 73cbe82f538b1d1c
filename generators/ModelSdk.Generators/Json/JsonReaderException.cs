using System;

namespace ModelSdk.Generators.Json
{
    /// <summary>Malformed JSON; caught by the manifest parser and turned into MSDK1501 at <see cref="Position"/>.</summary>
    internal sealed class JsonReaderException : Exception
    {
        public JsonReaderException(string message, int position)
            : base(message)
        {
            Position = position;
        }

        /// <summary>Offset in the text where the problem was found.</summary>
        public int Position { get; }
    }
}
