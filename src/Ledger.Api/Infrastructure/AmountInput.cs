using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Ledger.Domain;

namespace Ledger.Api.Infrastructure;

/// <summary>
/// An amount as the client sent it: a JSON string ("12.50") or number (12.5), kept as its exact text so it is
/// never passed through binary floating point. Validators parse it against the book currency's digits.
/// </summary>
[JsonConverter(typeof(AmountInputConverter))]
public readonly record struct AmountInput(string Text)
{
    /// <summary>
    /// The amount in minor units of a currency with <paramref name="digits"/> decimals. The API's rule is stricter than
    /// <see cref="Amount.Parse"/>, which also reads bank files: no plus sign, as the published pattern says.
    /// </summary>
    public AmountParse Parse(int digits) =>
        Text.StartsWith('+') ? AmountParse.Fail("must be a plain decimal number such as \"1250.00\", without a plus sign.") : Amount.Parse(Text, digits);

    public override string ToString() => Text;
}

public sealed class AmountInputConverter : JsonConverter<AmountInput>
{
    public override AmountInput Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.TokenType switch
        {
            JsonTokenType.String => new AmountInput(reader.GetString()!),
            JsonTokenType.Number => new AmountInput(Encoding.UTF8.GetString(
                reader.HasValueSequence ? System.Buffers.BuffersExtensions.ToArray(reader.ValueSequence) : reader.ValueSpan)),
            _ => throw new JsonException("An amount must be a decimal string such as \"1250.00\" or a JSON number."),
        };

    public override void Write(Utf8JsonWriter writer, AmountInput value, JsonSerializerOptions options) =>
        writer.WriteStringValue(value.Text);
}
