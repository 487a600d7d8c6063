//! Generates large, realistic OpenAPI 3.0 specs for tests and the `spec_render` bench
//! (which includes this file with `#[path]`): many resources, each with list/create/
//! get/replace/delete operations, parameters, `$ref`s between schemas, enums, nested
//! objects and descriptions, a third of them Markdown.
#![allow(dead_code)]

use serde_json::{json, Map, Value};

/// Text of about `target_bytes` (JSON when `json`, else YAML).
pub fn large_spec_text(target_bytes: usize, json: bool) -> String {
    let serialize = |v: &Value| {
        if json {
            serde_json::to_string_pretty(v).expect("json")
        } else {
            serde_saphyr::to_string(v).expect("yaml")
        }
    };
    let mut n = 40;
    let mut text = serialize(&large_spec(n));
    for _ in 0..3 {
        let ratio = target_bytes as f64 / text.len() as f64;
        if (0.97..1.03).contains(&ratio) {
            break;
        }
        n = ((n as f64 * ratio).ceil() as usize).max(1);
        text = serialize(&large_spec(n));
    }
    text
}

fn description(i: usize, what: &str) -> String {
    match i % 3 {
        0 => format!(
            "Returns the **{what}** number {i}. Use `fields` to pick fields.\n\n\
             - Results are paged\n- Sorted by `created_at`\n\nSee [the guide](https://example.com/guide/{i})."
        ),
        1 => format!(
            "The {what} number {i}, as stored by the service. It is kept for a year and then archived."
        ),
        _ => format!("A {what} ({i})."),
    }
}

/// A spec with `n` resources.
pub fn large_spec(n: usize) -> Value {
    let mut paths = Map::new();
    let mut schemas = Map::new();
    let mut tags = Vec::new();
    for t in 0..(n / 10).max(1) {
        tags.push(json!({"name": format!("group{t}"), "description": description(t, "group")}));
    }
    for i in 0..n {
        let name = format!("Widget{i}");
        let tag = format!("group{}", i / 10);
        let other = format!("#/components/schemas/Widget{}", (i * 7 + 3) % n);
        let item_ref = format!("#/components/schemas/{name}");
        schemas.insert(
            name.clone(),
            json!({
                "type": "object",
                "description": description(i, "widget"),
                "required": ["id", "name", "status"],
                "properties": {
                    "id": {"type": "string", "format": "uuid", "readOnly": true, "description": "Unique id."},
                    "name": {"type": "string", "minLength": 1, "maxLength": 200, "example": format!("widget {i}"), "description": description(i + 1, "name")},
                    "status": {"type": "string", "enum": ["draft", "active", "archived"], "default": "draft"},
                    "size": {"type": "integer", "format": "int32", "minimum": 0, "maximum": 1000},
                    "price": {"type": "number", "format": "double", "nullable": true},
                    "created_at": {"type": "string", "format": "date-time"},
                    "labels": {"type": "array", "items": {"type": "string"}, "maxItems": 20},
                    "metadata": {"type": "object", "additionalProperties": {"type": "string"}},
                    "related": {"$ref": other},
                    "children": {"type": "array", "items": {"$ref": item_ref}},
                    "dimensions": {
                        "type": "object",
                        "description": "Physical dimensions.",
                        "properties": {
                            "width": {"type": "number"},
                            "height": {"type": "number"},
                            "unit": {"type": "string", "enum": ["mm", "cm", "in"]}
                        }
                    },
                    "owner": {"$ref": "#/components/schemas/Owner"}
                }
            }),
        );
        let list = json!({
            "tags": [tag],
            "summary": format!("List widgets {i}"),
            "operationId": format!("listWidget{i}"),
            "description": description(i, "list"),
            "parameters": [
                {"$ref": "#/components/parameters/Page"},
                {"$ref": "#/components/parameters/Limit"},
                {"name": "sort", "in": "query", "description": "Sort order.", "schema": {"type": "string", "enum": ["name", "-name", "created_at"]}},
                {"name": "status", "in": "query", "schema": {"type": "array", "items": {"type": "string"}}}
            ],
            "responses": {
                "200": {
                    "description": "A page of widgets.",
                    "headers": {"X-Total": {"description": "Total count.", "schema": {"type": "integer"}}},
                    "content": {"application/json": {"schema": {
                        "type": "object",
                        "properties": {
                            "items": {"type": "array", "items": {"$ref": item_ref}},
                            "next": {"type": "string", "nullable": true}
                        }
                    }}}
                },
                "default": {"$ref": "#/components/responses/Error"}
            }
        });
        let create = json!({
            "tags": [tag],
            "summary": format!("Create widget {i}"),
            "operationId": format!("createWidget{i}"),
            "requestBody": {"required": true, "content": {"application/json": {
                "schema": {"$ref": item_ref},
                "example": {"name": format!("widget {i}"), "status": "draft", "size": 3}
            }}},
            "responses": {
                "201": {"description": "Created.", "content": {"application/json": {"schema": {"$ref": item_ref}}}},
                "default": {"$ref": "#/components/responses/Error"}
            }
        });
        let id_param = json!({"name": "id", "in": "path", "required": true, "description": "The widget's id.", "schema": {"type": "string", "format": "uuid"}});
        let get = json!({
            "tags": [tag],
            "summary": format!("Get widget {i}"),
            "operationId": format!("getWidget{i}"),
            "description": description(i + 2, "widget"),
            "responses": {
                "200": {"description": "The widget.", "content": {"application/json": {"schema": {"$ref": item_ref}}}},
                "404": {"$ref": "#/components/responses/Error"}
            }
        });
        let put = json!({
            "tags": [tag],
            "summary": format!("Replace widget {i}"),
            "operationId": format!("replaceWidget{i}"),
            "requestBody": {"content": {"application/json": {"schema": {"$ref": item_ref}}}},
            "responses": {"200": {"description": "Replaced.", "content": {"application/json": {"schema": {"$ref": item_ref}}}}}
        });
        let delete = json!({
            "tags": [tag],
            "summary": format!("Delete widget {i}"),
            "operationId": format!("deleteWidget{i}"),
            "deprecated": i % 5 == 0,
            "responses": {"204": {"description": "Deleted."}}
        });
        paths.insert(format!("/widgets{i}"), json!({"get": list, "post": create}));
        paths.insert(
            format!("/widgets{i}/{{id}}"),
            json!({"parameters": [id_param], "get": get, "put": put, "delete": delete}),
        );
    }
    schemas.insert(
        "Owner".into(),
        json!({"type": "object", "properties": {"name": {"type": "string"}, "email": {"type": "string", "format": "email"}}}),
    );
    schemas.insert(
        "Error".into(),
        json!({"type": "object", "required": ["code", "message"], "properties": {"code": {"type": "integer"}, "message": {"type": "string"}}}),
    );
    json!({
        "openapi": "3.0.3",
        "info": {"title": "Generated API", "version": "1.0.0", "description": description(0, "API")},
        "servers": [{"url": "https://api.example.com/v1"}],
        "tags": tags,
        "paths": paths,
        "components": {
            "schemas": schemas,
            "parameters": {
                "Page": {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "default": 1}},
                "Limit": {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}}
            },
            "responses": {
                "Error": {"description": "An error.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
            }
        }
    })
}
