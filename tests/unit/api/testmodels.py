"""Test-only service models, one per protocol, written in botocore's layout.

Each model has an `Echo` operation whose input and output cover every shape type
(nested lists, maps and structures, all scalar types, timestamps in several formats,
blobs), plus `Fail` (raises a chosen AWS error), `Boom` (raises a bug) and `Missing`
(no handler). The rest models also bind members to URI labels (one greedy), the query
string, headers, a header-prefix map and the status code, and have a blob payload op.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

API_VERSION = "2024-01-01"
NS = "https://dockyard.test/doc/2024-01-01/"


def _scalars() -> dict[str, Any]:
    return {
        "Str": {"type": "string", "min": 1, "max": 20},
        "Text": {"type": "string"},
        "Color": {"type": "string", "enum": ["RED", "GREEN"]},
        "Int": {"type": "integer", "min": 1, "max": 100},
        "Long": {"type": "long"},
        "Float": {"type": "float"},
        "Double": {"type": "double"},
        "Bool": {"type": "boolean"},
        "Ts": {"type": "timestamp"},
        "TsIso": {"type": "timestamp", "timestampFormat": "iso8601"},
        "TsEpoch": {"type": "timestamp", "timestampFormat": "unixTimestamp"},
        "Blob": {"type": "blob"},
        "Stream": {"type": "blob", "streaming": True},
        "StrList": {"type": "list", "member": {"shape": "Str"}},
        "FlatList": {"type": "list", "member": {"shape": "Str"}, "flattened": True},
        "ItemList": {"type": "list", "member": {"shape": "Item"}, "max": 5},
        "StrMap": {"type": "map", "key": {"shape": "Str"}, "value": {"shape": "Str"}},
        "ItemMap": {"type": "map", "key": {"shape": "Str"}, "value": {"shape": "Item"}},
        "ListOfLists": {"type": "list", "member": {"shape": "StrList"}},
        "Item": {
            "type": "structure",
            "required": ["name"],
            "members": {
                "name": {"shape": "Str"},
                "count": {"shape": "Int"},
                "tags": {"shape": "StrMap"},
                "when": {"shape": "Ts"},
                "children": {"shape": "ItemList"},
            },
        },
    }


BODY_MEMBERS: dict[str, Any] = {
    "Name": {"shape": "Str"},
    "Color": {"shape": "Color"},
    "Count": {"shape": "Int"},
    "Big": {"shape": "Long"},
    "Ratio": {"shape": "Float"},
    "Precise": {"shape": "Double"},
    "Enabled": {"shape": "Bool"},
    "When": {"shape": "Ts"},
    "WhenIso": {"shape": "TsIso"},
    "WhenEpoch": {"shape": "TsEpoch"},
    "Data": {"shape": "Blob"},
    "Names": {"shape": "StrList"},
    "Flat": {"shape": "FlatList"},
    "Items": {"shape": "ItemList"},
    "Labels": {"shape": "StrMap"},
    "ItemsByName": {"shape": "ItemMap"},
    "Matrix": {"shape": "ListOfLists"},
    "Inner": {"shape": "Item"},
}

REST_MEMBERS: dict[str, Any] = {
    "Id": {"shape": "Str", "location": "uri", "locationName": "Id"},
    "Path": {"shape": "Str", "location": "uri", "locationName": "Path"},
    "Limit": {"shape": "Int", "location": "querystring", "locationName": "limit"},
    "Filters": {"shape": "StrList", "location": "querystring", "locationName": "filter"},
    "Since": {"shape": "Ts", "location": "querystring", "locationName": "since"},
    "Token": {"shape": "Str", "location": "header", "locationName": "x-token"},
    "Modified": {"shape": "Ts", "location": "header", "locationName": "x-modified"},
    "Flags": {"shape": "StrList", "location": "header", "locationName": "x-flags"},
    "Verbose": {"shape": "Bool", "location": "header", "locationName": "x-verbose"},
    "Meta": {"shape": "StrMap", "location": "headers", "locationName": "x-meta-"},
}

REST_OUT_MEMBERS: dict[str, Any] = {
    "Id": {"shape": "Str", "location": "header", "locationName": "x-id"},
    "Path": {"shape": "Str", "location": "header", "locationName": "x-path"},
    "Limit": {"shape": "Int", "location": "header", "locationName": "x-limit"},
    "Filters": {"shape": "StrList", "location": "header", "locationName": "x-filters"},
    "Since": {"shape": "Ts", "location": "header", "locationName": "x-since"},
    "Token": {"shape": "Str", "location": "header", "locationName": "x-token"},
    "Modified": {"shape": "Ts", "location": "header", "locationName": "x-modified"},
    "Flags": {"shape": "StrList", "location": "header", "locationName": "x-flags"},
    "Verbose": {"shape": "Bool", "location": "header", "locationName": "x-verbose"},
    "Meta": {"shape": "StrMap", "location": "headers", "locationName": "x-meta-"},
    "Status": {"shape": "Int", "location": "statusCode"},
}


def _base(protocol: str, name: str, protocols: list[str] | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "apiVersion": API_VERSION,
        "endpointPrefix": name,
        "protocol": protocol,
        "protocols": protocols or [protocol],
        "serviceFullName": f"Dockyard test service ({protocol})",
        "serviceId": name,
        "signatureVersion": "v4",
        "signingName": name,
        "uid": f"{name}-{API_VERSION}",
    }
    if protocol in ("json", "smithy-rpc-v2-cbor") or protocols:
        meta["targetPrefix"] = name.capitalize() + "Service"
        meta["jsonVersion"] = "1.1"
    if protocol in ("query", "rest-xml") or protocols:
        meta["xmlNamespace"] = NS
    shapes = _scalars()
    shapes.update(
        {
            "EchoInput": {"type": "structure", "required": [], "members": dict(BODY_MEMBERS)},
            "EchoOutput": {"type": "structure", "members": dict(BODY_MEMBERS)},
            "FailInput": {
                "type": "structure",
                "required": ["Code"],
                "members": {
                    "Code": {"shape": "Text"},
                    "Message": {"shape": "Text"},
                    "Status": {"shape": "Long"},
                },
            },
            "Empty": {"type": "structure", "members": {}},
        }
    )
    ops: dict[str, Any] = {}
    for op, inp, out in (
        ("Echo", "EchoInput", "EchoOutput"),
        ("Fail", "FailInput", "Empty"),
        ("Boom", "Empty", "Empty"),
        ("Missing", "Empty", "Empty"),
        ("Whoami", "Empty", "EchoOutput"),
    ):
        ops[op] = {
            "name": op,
            "http": {"method": "POST", "requestUri": "/"},
            "input": {"shape": inp},
            "output": {"shape": out},
        }
        if protocol == "query" or protocols:
            ops[op]["output"]["resultWrapper"] = f"{op}Result"
    return {"version": "2.0", "metadata": meta, "operations": ops, "shapes": shapes}


def _rest(model: dict[str, Any], protocol: str) -> None:
    shapes = model["shapes"]
    ops = model["operations"]
    echo_in = shapes["EchoInput"]
    echo_in["members"].update(copy.deepcopy(REST_MEMBERS))
    echo_in["required"] = ["Id", "Path"]
    shapes["EchoOutput"]["members"].update(copy.deepcopy(REST_OUT_MEMBERS))
    ops["Echo"]["http"] = {
        "method": "POST",
        "requestUri": "/things/{Id}/files/{Path+}?echo",
        "responseCode": 201,
    }
    ops["Fail"]["http"] = {"method": "POST", "requestUri": "/fail"}
    ops["Boom"]["http"] = {"method": "GET", "requestUri": "/boom"}
    ops["Whoami"]["http"] = {"method": "GET", "requestUri": "/whoami"}
    ops["Missing"]["http"] = {"method": "DELETE", "requestUri": "/things/{Id}"}
    shapes["MissingInput"] = {
        "type": "structure",
        "required": ["Id"],
        "members": {"Id": {"shape": "Str", "location": "uri", "locationName": "Id"}},
    }
    ops["Missing"]["input"] = {"shape": "MissingInput"}
    shapes["UploadInput"] = {
        "type": "structure",
        "required": ["Id"],
        "members": {
            "Id": {"shape": "Str", "location": "uri", "locationName": "Id"},
            "ContentType": {"shape": "Str", "location": "header", "locationName": "Content-Type"},
            "Body": {"shape": "Stream"},
        },
        "payload": "Body",
    }
    shapes["UploadOutput"] = {
        "type": "structure",
        "members": {
            "ContentType": {"shape": "Str", "location": "header", "locationName": "Content-Type"},
            "Body": {"shape": "Stream"},
        },
        "payload": "Body",
    }
    ops["Upload"] = {
        "name": "Upload",
        "http": {"method": "PUT", "requestUri": "/things/{Id}/data"},
        "input": {"shape": "UploadInput"},
        "output": {"shape": "UploadOutput"},
    }
    # A structure payload.
    shapes["Doc"] = {
        "type": "structure",
        "members": {"Item": {"shape": "Item"}, "Note": {"shape": "Str"}},
    }
    shapes["PutDocInput"] = {
        "type": "structure",
        "required": ["Id"],
        "members": {
            "Id": {"shape": "Str", "location": "uri", "locationName": "Id"},
            "Doc": {"shape": "Doc", "locationName": "Doc"},
        },
        "payload": "Doc",
    }
    shapes["PutDocOutput"] = {
        "type": "structure",
        "members": {"Doc": {"shape": "Doc"}},
        "payload": "Doc",
    }
    ops["PutDoc"] = {
        "name": "PutDoc",
        "http": {"method": "PUT", "requestUri": "/things/{Id}"},
        "input": {"shape": "PutDocInput"},
        "output": {"shape": "PutDocOutput"},
    }
    if protocol == "rest-xml":
        for name in ("EchoInput", "FailInput", "PutDocInput"):
            shapes[name]["locationName"] = name.replace("Input", "Request")
            shapes[name]["xmlNamespace"] = {"uri": NS}
        shapes["Doc"]["locationName"] = "Doc"


def models() -> dict[str, dict[str, Any]]:
    out = {
        "testjson": _base("json", "testjson"),
        "testquery": _base("query", "testquery"),
        "testcbor": _base("smithy-rpc-v2-cbor", "testcbor"),
        "testrestjson": _base("rest-json", "testrestjson"),
        "testrestxml": _base("rest-xml", "testrestxml"),
        "testmulti": _base(
            "smithy-rpc-v2-cbor", "testmulti", ["smithy-rpc-v2-cbor", "json", "query"]
        ),
    }
    out["testmulti"]["metadata"]["awsQueryCompatible"] = {}
    _rest(out["testrestjson"], "rest-json")
    _rest(out["testrestxml"], "rest-xml")
    return out


def write(root: Path, service: str, model: dict[str, Any]) -> None:
    folder = root / service / API_VERSION
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "service-2.json").write_text(json.dumps(model, indent=1))
