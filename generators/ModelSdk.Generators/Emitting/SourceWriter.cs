using System.Text;
using Microsoft.CodeAnalysis.Text;

namespace ModelSdk.Generators.Emitting
{
    /// <summary>
    /// Writes C# line by line with four-space indentation and '\n' line ends, so the output is identical
    /// on every OS (golden files compare byte for byte).
    /// </summary>
    internal sealed class SourceWriter
    {
        private const string IndentUnit = "    ";

        private readonly StringBuilder _builder = new StringBuilder();
        private int _indent;

        public void WriteLine()
        {
            _builder.Append('\n');
        }

        public void WriteLine(string line)
        {
            for (int i = 0; i < _indent; i++) _builder.Append(IndentUnit);
            _builder.Append(line).Append('\n');
        }

        /// <summary>Writes "{" and indents what follows.</summary>
        public void OpenBlock()
        {
            WriteLine("{");
            _indent++;
        }

        /// <summary>Unindents and writes "}" (plus an optional suffix such as ";").</summary>
        public void CloseBlock(string suffix = "")
        {
            _indent--;
            WriteLine("}" + suffix);
        }

        public SourceText ToSourceText() => SourceText.From(_builder.ToString(), Encoding.UTF8);

        public override string ToString() => _builder.ToString();
    }
}
