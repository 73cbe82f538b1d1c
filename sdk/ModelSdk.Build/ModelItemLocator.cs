using System.Xml;

namespace ModelSdk.Build;

/// <summary>
/// Finds the line of a <c>&lt;Model Include="..."&gt;</c> element in the project file, so errors point at the
/// item the user wrote rather than at the SDK's targets. Best effort: items from imports or globs report line 0.
/// </summary>
internal static class ModelItemLocator
{
    public static (int Line, int Column) Find(string projectFile, string itemSpec)
    {
        try
        {
            using var reader = XmlReader.Create(projectFile, new XmlReaderSettings { DtdProcessing = DtdProcessing.Prohibit, XmlResolver = null });
            var info = (IXmlLineInfo)reader;
            while (reader.Read())
            {
                if (reader.NodeType != XmlNodeType.Element || reader.LocalName != "Model") continue;
                var include = reader.GetAttribute("Include");
                if (include is not null && include.Split(';').Any(part => SamePath(part.Trim(), itemSpec)))
                    return (info.LineNumber, info.LinePosition);
            }
        }
        catch (Exception e) when (e is XmlException or IOException or UnauthorizedAccessException)
        {
            // The location is a courtesy; the error itself is reported either way.
        }
        return (0, 0);
    }

    private static bool SamePath(string a, string b)
        => string.Equals(a.Replace('\\', '/'), b.Replace('\\', '/'), StringComparison.OrdinalIgnoreCase);
}
