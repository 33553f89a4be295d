using System.Text.Json;
using System.Text.Json.Serialization;

namespace Ledger.Api.Infrastructure;

/// <summary>
/// Reads every JSON string of a request and refuses the NUL character (U+0000): PostgreSQL's text cannot hold it, so
/// SQLite and PostgreSQL would otherwise answer the same request differently (stored there, a server error here).
/// Refused as a 400 on the field, as any malformed value is.
/// </summary>
public sealed class TextWithoutNulConverter : JsonConverter<string>
{
    public const string Message = "A text must not contain the NUL character (U+0000).";

    public override bool HandleNull => false;

    public override string? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        var text = reader.GetString();
        if (text is not null && text.Contains('\0')) throw new JsonException(Message);
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
