// An MSBuild task (compiled by RoslynCodeTaskFactory from ModelSdk.Distillation.targets): marks one version requirement
// of an ELF shared library weak, so the dynamic loader accepts a system library that lacks that version.
//
// Why: libLibTorchSharp.so (TorchSharp 0.107.0) was linked by GCC 15, which references std::ios_base_library_init()
// (GLIBCXX_3.4.32) from every file including <iostream>. No relocation binds that symbol, yet the loader refuses the
// library on systems whose libstdc++ stops before 3.4.32 (Debian 12: 3.4.30). Setting VER_FLG_WEAK on that Vernaux
// entry (2 bytes) makes the requirement optional; the library then loads and runs unchanged.
//
// Safety: the task patches nothing (and warns) when any dynamic relocation refers to a symbol of that version, i.e. when
// the library really uses it. It rewrites a copy (temp + rename, so a hard link into the package cache is never
// modified), keeps the file's timestamp (incremental copies stay skipped), and does nothing when the flag is already set.
// MSBuild compiles this file against .NET Standard 2.0: no spans, no records. The tests compile it with
// MODELSDK_ELF_LOGIC_ONLY (the ELF logic without the MSBuild task).
#nullable disable
using System;
using System.IO;
using System.Text;
#if !MODELSDK_ELF_LOGIC_ONLY
using Microsoft.Build.Framework;

public sealed class MarkElfVersionWeak : Microsoft.Build.Utilities.Task
{
    /// <summary>The libraries to patch (missing files are skipped).</summary>
    [Required]
    public ITaskItem[] Files { get; set; } = Array.Empty<ITaskItem>();

    /// <summary>The version requirement to make optional, e.g. GLIBCXX_3.4.32.</summary>
    [Required]
    public string Version { get; set; } = "";

    public override bool Execute()
    {
        foreach (var item in Files)
        {
            var path = item.ItemSpec;
            if (!File.Exists(path)) continue;
            try
            {
                string symbol;
                switch (ElfWeakVersion.Patch(path, Version, out symbol))
                {
                    case ElfWeakVersion.Outcome.Patched:
                        Log.LogMessage(MessageImportance.Normal, "ModelSdk: marked the unused {0} requirement of {1} weak.", Version, path);
                        break;
                    case ElfWeakVersion.Outcome.Used:
                        Log.LogWarning(null, "MSDK1050", null, path, 0, 0, 0, 0,
                            "{0} binds {1} of {2}: the requirement is real, so it was not marked weak. Install a libstdc++ that provides {2}, or set ModelSdkPatchTorchSharpLoader=false.",
                            Path.GetFileName(path), symbol, Version);
                        break;
                }
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException || e is InvalidDataException || e is ArgumentException)
            {
                Log.LogWarning(null, "MSDK1050", null, path, 0, 0, 0, 0,
                    "ModelSdk could not check {0} for the {1} requirement ({2}); it was left unchanged.", Path.GetFileName(path), Version, e.Message);
            }
        }
        return !Log.HasLoggedErrors;
    }
}
#endif

/// <summary>The ELF side of the fix: find a Vernaux entry by name, check relocations, set VER_FLG_WEAK.</summary>
public static class ElfWeakVersion
{
    private const uint ShtRela = 4, ShtRel = 9, ShtDynsym = 11, ShtGnuVerneed = 0x6ffffffe, ShtGnuVersym = 0x6fffffff;
    private const ushort VerFlgWeak = 0x2;

    public enum Outcome
    {
        /// <summary>The library does not ask for the version.</summary>
        NotRequired,
        /// <summary>The requirement is weak already (an earlier build patched this copy).</summary>
        AlreadyWeak,
        /// <summary>The requirement was marked weak now.</summary>
        Patched,
        /// <summary>A relocation binds a symbol of that version: nothing was changed.</summary>
        Used,
    }

    /// <summary>Marks <paramref name="version"/> weak in the file at <paramref name="path"/> unless a relocation uses it.</summary>
    public static Outcome Patch(string path, string version, out string usedSymbol)
    {
        var bytes = File.ReadAllBytes(path);
        ushort versionIndex;
        var flagsOffset = FindVernauxFlags(bytes, version, out versionIndex, out usedSymbol);
        if (flagsOffset < 0) return Outcome.NotRequired;
        if ((U16(bytes, flagsOffset) & VerFlgWeak) != 0) return Outcome.AlreadyWeak;
        if (usedSymbol != null) return Outcome.Used;
        bytes[flagsOffset] |= (byte)VerFlgWeak; // vna_flags is little-endian: the flag lives in its low byte
        var stamp = File.GetLastWriteTimeUtc(path);
        var temp = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path)), "." + Path.GetFileName(path) + "." + Guid.NewGuid().ToString("N") + ".tmp");
        try
        {
            File.WriteAllBytes(temp, bytes);
            File.SetLastWriteTimeUtc(temp, stamp);
            File.Replace(temp, path, null); // a rename: the old file (maybe a hard link into the package cache) is not written
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
        return Outcome.Patched;
    }

    /// <summary>
    /// The file offset of the vna_flags of the Vernaux entry named <paramref name="version"/> (-1 when there is none), its
    /// version index, and the name of a dynamic symbol of that version that a relocation refers to (null when none does).
    /// </summary>
    public static int FindVernauxFlags(byte[] elf, string version, out ushort versionIndex, out string relocated)
    {
        versionIndex = 0;
        relocated = null;
        if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F')
            throw new InvalidDataException("not an ELF file");
        if (elf[4] != 2 || elf[5] != 1) throw new InvalidDataException("not a 64-bit little-endian ELF file");
        var shoff = checked((int)U64(elf, 0x28));
        int shentsize = U16(elf, 0x3a), shnum = U16(elf, 0x3c);
        if (shentsize < 64 || shoff + (long)shnum * shentsize > elf.Length) throw new InvalidDataException("section headers out of range");

        Section Header(int i)
        {
            var at = shoff + i * shentsize;
            return new Section(U32(elf, at + 4), checked((int)U64(elf, at + 24)), checked((int)U64(elf, at + 32)), (int)U32(elf, at + 40),
                (int)U32(elf, at + 44), checked((int)U64(elf, at + 56)));
        }

        var flagsOffset = -1;
        Section? dynsym = null, versym = null;
        for (var i = 0; i < shnum; i++)
        {
            var s = Header(i);
            if (s.Type == ShtDynsym) dynsym = s;
            if (s.Type == ShtGnuVersym) versym = s;
            if (s.Type != ShtGnuVerneed) continue;
            var strings = Header(s.Link);
            var need = s.Offset;
            for (var n = 0; n < s.Info; n++)
            {
                var aux = need + (int)U32(elf, need + 8);
                for (var a = 0; a < U16(elf, need + 2); a++)
                {
                    if (CString(elf, strings.Offset + (int)U32(elf, aux + 8)) == version)
                    {
                        flagsOffset = aux + 4;
                        versionIndex = (ushort)(U16(elf, aux + 6) & 0x7fff);
                    }
                    aux += (int)U32(elf, aux + 12);
                }
                need += (int)U32(elf, need + 12);
            }
        }
        if (flagsOffset < 0 || dynsym is null || versym is null) return flagsOffset;

        var symbolStrings = Header(dynsym.Value.Link);
        for (var i = 0; i < shnum && relocated is null; i++)
        {
            var s = Header(i);
            if (s.Type is not (ShtRela or ShtRel) || s.EntrySize == 0) continue;
            for (var at = s.Offset; at + s.EntrySize <= s.Offset + s.Size; at += s.EntrySize)
            {
                var symbol = (int)(U64(elf, at + 8) >> 32);
                if (symbol == 0) continue;
                if ((U16(elf, versym.Value.Offset + symbol * 2) & 0x7fff) != versionIndex) continue;
                relocated = CString(elf, symbolStrings.Offset + (int)U32(elf, dynsym.Value.Offset + symbol * dynsym.Value.EntrySize));
                break;
            }
        }
        return flagsOffset;
    }

    private struct Section
    {
        public Section(uint type, int offset, int size, int link, int info, int entrySize)
        {
            Type = type; Offset = offset; Size = size; Link = link; Info = info; EntrySize = entrySize;
        }

        public uint Type;
        public int Offset, Size, Link, Info, EntrySize;
    }

    private static ushort U16(byte[] s, int at) => (ushort)(s[at] | s[at + 1] << 8);

    private static uint U32(byte[] s, int at) => U16(s, at) | (uint)U16(s, at + 2) << 16;

    private static ulong U64(byte[] s, int at) => U32(s, at) | (ulong)U32(s, at + 4) << 32;

    private static string CString(byte[] s, int at)
    {
        var end = Array.IndexOf(s, (byte)0, at);
        if (end < 0) throw new InvalidDataException("unterminated string");
        return Encoding.ASCII.GetString(s, at, end - at);
    }
}
