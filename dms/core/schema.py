"""OpenAPI post-processing: every operation documents the error responses our exception handler produces."""

ERROR_RESPONSES = {
    "400": 'Bad input: `{"detail": ...}` or field → list of messages; nothing was written.',
    "401": "Not authenticated.",
    "403": "Your role may not do this.",
    "404": "No such record in your dealerships.",
    "409": "The record's state (or a concurrent change) does not allow this; nothing was written.",
    "429": "Too many requests.",
}


def add_error_responses(result, generator, request, public):
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["Error"] = {
        "type": "object",
        "description": "Either {detail: message} or {field: [messages]}.",
        "additionalProperties": True,
        "properties": {"detail": {"type": "string"}},
    }
    ref = {"$ref": "#/components/schemas/Error"}
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            # 404 also answers a list's page number out of range; 400 a bad filter value.
            codes = ["400", "401", "403", "404", "429"]
            if method in ("post", "put", "patch", "delete"):
                codes.append("409")
            for code in codes:
                operation["responses"].setdefault(
                    code, {"description": ERROR_RESPONSES[code], "content": {"application/json": {"schema": ref}}}
                )
    return result
