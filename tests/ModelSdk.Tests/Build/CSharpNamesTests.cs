using ModelSdk.Build;

namespace ModelSdk.Tests.Build;

public sealed class CSharpNamesTests
{
    [Theory]
    [InlineData("stories15M", "Stories15M")]
    [InlineData("my-model.v2", "MyModelV2")]
    [InlineData("7b", "Model7b")]
    [InlineData("---", "Model")]
    public void FileNamesBecomeTypeNames(string file, string expected) => Assert.Equal(expected, CSharpNames.ToTypeName(file));

    [Theory]
    [InlineData("Stories15M", true)]
    [InlineData("_x", true)]
    [InlineData("class", false)]
    [InlineData("1abc", false)]
    [InlineData("a-b", false)]
    [InlineData("", false)]
    public void Identifiers(string name, bool valid) => Assert.Equal(valid, CSharpNames.IsIdentifier(name));
}
