using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Ledger.Api.Infrastructure.OpenApi;
using Ledger.Api.Tests.Support;
using Microsoft.AspNetCore.Mvc.ApiExplorer;
using Microsoft.Extensions.DependencyInjection;

namespace Ledger.Api.Tests.OpenApi;

/// <summary>
/// Clients are generated from the document and answers are validated against it, so every answer the API can give
/// must fit its schema. Left to itself, Swashbuckle publishes a property whose type is another schema as a bare $ref,
/// which forbids null whatever the C# property allows, and describes System.Text.Json's DOM types by their .NET
/// members. Both are checked from the response types themselves, so a new nullable member is caught before anyone
/// meets a null in an answer.
/// </summary>
public sealed class OpenApiAnswerSchemaTests(SharedApp shared) : SharedAppTest(shared)
{
    /// <summary>Nullable in C# but never null in an answer.</summary>
    private static readonly HashSet<string> NeverNullInAnswers = new(StringComparer.Ordinal)
    {
        // The request's record, answered back: a rule is stored only once every condition has a text or [low, high].
        "BankRuleCondition.value",
    };

    [Fact]
    public async Task Every_answer_property_that_can_be_null_is_published_as_nullable()
    {
        var schemas = (await DocumentAsync())["components"]!["schemas"]!.AsObject();
        var nullability = new NullabilityInfoContext();
        var wrong = new SortedSet<string>(StringComparer.Ordinal);
        var seen = new HashSet<Type>();
        var pending = new Queue<Type>(AnswerTypes());
        while (pending.TryDequeue(out var type))
        {
            if (Published(type, schemas) is not { } published || !seen.Add(published)) continue;
            var id = LedgerOpenApi.SchemaId(published);
            if (schemas[id]?["properties"] is not JsonObject properties) continue;
            foreach (var member in published.GetProperties(BindingFlags.Public | BindingFlags.Instance))
            {
                if (member.GetIndexParameters().Length > 0 || member.IsDefined(typeof(JsonExtensionDataAttribute))) continue;
                var ignore = member.GetCustomAttribute<JsonIgnoreAttribute>()?.Condition;
                if (ignore == JsonIgnoreCondition.Always) continue;
                pending.Enqueue(member.PropertyType);
                var name = member.GetCustomAttribute<JsonPropertyNameAttribute>()?.Name ?? JsonNamingPolicy.CamelCase.ConvertName(member.Name);
                if (properties[name] is not JsonObject property)
                {
                    wrong.Add($"{id}.{name}: not in the schema");
                    continue;
                }
                // Left out when null (never written as null): optional in the schema already says so.
                if (ignore == JsonIgnoreCondition.WhenWritingNull) continue;
                var mayBeNull = Nullable.GetUnderlyingType(member.PropertyType) is not null
                                || nullability.Create(member).ReadState == NullabilityState.Nullable;
                if (mayBeNull && !AdmitsNull(property, schemas) && !NeverNullInAnswers.Contains($"{id}.{name}"))
                    wrong.Add($"{id}.{name}: {(Nullable.GetUnderlyingType(member.PropertyType) ?? member.PropertyType).Name}? in C#, " +
                              $"published as {property.ToJsonString()}");
            }
        }
        Assert.True(seen.Count > 50, $"Only {seen.Count} answer schemas were reached: the walk is not finding the response types.");
        Assert.True(wrong.Count == 0,
            "Answer properties the schema does not describe as they can be sent:\n  " + string.Join("\n  ", wrong));
    }

    [Fact]
    public async Task No_serializer_type_is_published_as_a_schema()
    {
        // System.Text.Json's DOM types described by reflection are their .NET members (options, parent, root), not the
        // JSON they stand for; a property of such a type needs a schema of its own (LedgerOpenApi maps them).
        var schemas = (await DocumentAsync())["components"]!["schemas"]!.AsObject();
        var leaked = schemas.Select(s => s.Key)
            .Where(name => name.StartsWith("Json", StringComparison.Ordinal) || name.Contains("KeyValuePair", StringComparison.Ordinal))
            .ToList();
        Assert.True(leaked.Count == 0, "Serializer types published as schemas: " + string.Join(", ", leaked));
    }

    private async Task<JsonNode> DocumentAsync() =>
        JsonNode.Parse(await App.Client(null).GetStringAsync("/swagger/v1/swagger.json"))!;

    /// <summary>The types the operations answer with (any status), as the app's API explorer knows them.</summary>
    private IEnumerable<Type> AnswerTypes() =>
        App.Services.GetRequiredService<IApiDescriptionGroupCollectionProvider>().ApiDescriptionGroups.Items
            .SelectMany(g => g.Items).SelectMany(d => d.SupportedResponseTypes)
            .Select(r => r.Type).OfType<Type>().Where(t => t != typeof(void));

    /// <summary>The type whose component schema describes values of <paramref name="type"/>, through nullables, lists and dictionaries.</summary>
    private static Type? Published(Type type, JsonObject schemas)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        if (schemas.ContainsKey(LedgerOpenApi.SchemaId(type))) return type;
        if (type == typeof(string)) return null;
        var dictionary = type.GetInterfaces().Append(type).FirstOrDefault(i => i.IsGenericType &&
            (i.GetGenericTypeDefinition() == typeof(IDictionary<,>) || i.GetGenericTypeDefinition() == typeof(IReadOnlyDictionary<,>)));
        if (dictionary is not null) return Published(dictionary.GetGenericArguments()[1], schemas);
        var element = type.IsArray ? type.GetElementType() : type.GetInterfaces().Append(type)
            .FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IEnumerable<>))?.GetGenericArguments()[0];
        return element is null ? null : Published(element, schemas);
    }

    /// <summary>Whether JSON null is valid against <paramref name="schema"/> (3.1 type lists, 3.0 nullable, $ref, oneOf/anyOf/allOf).</summary>
    private static bool AdmitsNull(JsonNode schema, JsonObject schemas)
    {
        if (schema["$ref"] is JsonValue reference
            && !AdmitsNull(schemas[reference.GetValue<string>()["#/components/schemas/".Length..]]!, schemas)) return false;
        var nullable = schema["nullable"] is JsonValue flag && flag.GetValue<bool>();
        switch (schema["type"])
        {
            case JsonValue one when !nullable && one.GetValue<string>() != "null": return false;
            case JsonArray many when !nullable && many.All(t => t!.GetValue<string>() != "null"): return false;
        }
        foreach (var union in new[] { "oneOf", "anyOf" })
            if (schema[union] is JsonArray choices && !choices.Any(c => AdmitsNull(c!, schemas))) return false;
        return schema["allOf"] is not JsonArray all || all.All(c => AdmitsNull(c!, schemas));
    }
}
