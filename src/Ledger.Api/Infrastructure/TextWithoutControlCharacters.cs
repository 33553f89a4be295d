using System.Buffers;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Ledger.Api.Infrastructure;

/// <summary>
/// What a text may hold: no control characters (Unicode category Cc: C0 U+0000–U+001F, DEL U+007F and C1
/// U+0080–U+009F) other than tab (U+0009), line feed (U+000A), and carriage return (U+000D) directly before a line feed,
/// so notes pasted with Windows line ends (CRLF) pass. A bare CR is refused like the rest: it returns a terminal's
/// cursor to the start of the line, so printed in a log or a console it can overwrite what came before, as ESC
/// sequences ("\u001b[31m") can recolour or hide it; NUL cannot be stored by PostgreSQL at all.
/// </summary>
public static class ControlCharacters
{
    // Every Cc character but tab and line feed; CR is allowed only when a LF follows, which is checked where found.
    private static readonly SearchValues<char> Refused = SearchValues.Create(
        [.. Enumerable.Range(0, 0x20).Where(c => c is not '\t' and not '\n').Select(c => (char)c), .. Enumerable.Range(0x7F, 0x21).Select(c => (char)c)]);

    /// <summary>The index of the first character a text may not hold, or -1.</summary>
    public static int FirstRefused(ReadOnlySpan<char> text)
    {
        var offset = 0;
        while (true)
        {
            var found = text[offset..].IndexOfAny(Refused);
            if (found < 0) return -1;
            var at = offset + found;
            if (text[at] != '\r' || at + 1 >= text.Length || text[at + 1] != '\n') return at;
            offset = at + 2;
        }
    }

    /// <summary>The refusal as a field error: which character, where.</summary>
    public static string Problem(ReadOnlySpan<char> text, int at) =>
        $"must not contain control characters: U+{(int)text[at]:X4} at position {at.ToString(CultureInfo.InvariantCulture)}. " +
        "Only tab, line feed and CR LF line ends are allowed.";

    /// <summary>The refusal of <paramref name="text"/> as a field error, or null when it may be stored.</summary>
    public static string? Problem(string? text)
    {
        if (text is null) return null;
        var at = FirstRefused(text);
        return at < 0 ? null : Problem(text, at);
    }
}

/// <summary>
/// Reads every JSON string of a request (values and object keys, in every body) and refuses control characters
/// (<see cref="ControlCharacters"/>), so no text field can store them. Refused as a 400 on the field's JSON path, as any
/// malformed value is (the exception handler turns <see cref="ControlCharacterException"/> into the field's error).
/// </summary>
public sealed class TextWithoutControlCharactersConverter : JsonConverter<string>
{
    public override bool HandleNull => false;

    public override string? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        var text = reader.GetString();
        if (text is not null && ControlCharacters.FirstRefused(text) is var at and >= 0)
            throw new ControlCharacterException(ControlCharacters.Problem(text, at));
        return text;
    }

    public override void Write(Utf8JsonWriter writer, string value, JsonSerializerOptions options) => writer.WriteStringValue(value);

    // Strings are dictionary keys too: a validation problem's "errors" is a Dictionary<string, string[]>. Without these,
    // System.Text.Json refused to write such keys through this converter, and the first validation problem a fresh
    // process wrote through Kestrel came out as a 500 (found by tests/Ledger.Client.Tests; tests/…/Journal/KestrelProblemTests).
    public override string ReadAsPropertyName(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        Read(ref reader, typeToConvert, options)!;

    public override void WriteAsPropertyName(Utf8JsonWriter writer, string value, JsonSerializerOptions options) => writer.WritePropertyName(value);
}

/// <summary>A JSON string holding a control character; <see cref="Exception.Message"/> is the field's error.</summary>
public sealed class ControlCharacterException(string fieldMessage) : JsonException(fieldMessage);
