using System.Buffers.Binary;

namespace ModelSdk.Distillation.Tests.Loader;

/// <summary>Edits of an ELF64 little-endian file that build the cases the loader fix must refuse.</summary>
internal static class ElfTestEdits
{
    /// <summary>Sets the .gnu.version entry of the symbol that the first dynamic relocation refers to.</summary>
    public static void TagFirstRelocatedSymbol(byte[] elf, ushort versionIndex)
    {
        var s = (ReadOnlySpan<byte>)elf;
        var shoff = (int)BinaryPrimitives.ReadUInt64LittleEndian(s[0x28..]);
        int entry = BinaryPrimitives.ReadUInt16LittleEndian(s[0x3a..]), count = BinaryPrimitives.ReadUInt16LittleEndian(s[0x3c..]);
        int versym = -1, symbol = -1;
        for (var i = 0; i < count; i++)
        {
            var h = s[(shoff + i * entry)..];
            var type = BinaryPrimitives.ReadUInt32LittleEndian(h[4..]);
            var offset = (int)BinaryPrimitives.ReadUInt64LittleEndian(h[24..]);
            var size = (int)BinaryPrimitives.ReadUInt64LittleEndian(h[32..]);
            var entrySize = (int)BinaryPrimitives.ReadUInt64LittleEndian(h[56..]);
            if (type == 0x6fffffff) versym = offset;
            if (type is 4 or 9 && symbol <= 0)
                for (var at = offset; at < offset + size && symbol <= 0; at += entrySize)
                    symbol = (int)(BinaryPrimitives.ReadUInt64LittleEndian(s[(at + 8)..]) >> 32);
        }
        if (versym < 0 || symbol <= 0) throw new InvalidOperationException("The library has no versioned dynamic relocation.");
        BinaryPrimitives.WriteUInt16LittleEndian(elf.AsSpan(versym + symbol * 2), versionIndex);
    }
}
