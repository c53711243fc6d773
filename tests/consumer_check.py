"""Load a sheetsift corpus directory with the consumers its chat formats are
for, and print what they read as JSON (tests/consumers.rs compares it with
the files sheetsift wrote).

    python tests/consumer_check.py OUT

- jsonl: `datasets.load_dataset("json")`, as TRL / OpenAI-style fine-tuning
  scripts read `messages` data;
- sharegpt: read through `OUT/sharegpt/dataset_info.json` (file_name,
  formatting, columns, tags honoured) and converted by the rules of
  LLaMA-Factory's documented sharegpt converter: a leading `system_tag`
  message or the `system` column is the system prompt, roles must
  alternate user/observation then assistant/function, and an odd number
  of messages is an abnormal example it skips;
- parquet: `pyarrow.parquet.read_table` and `datasets.load_dataset("parquet")`.
"""
import json
import sys

import datasets
import pyarrow.parquet as pq

datasets.disable_progress_bars()
out = sys.argv[1]
res = {}


def load_json(path):
    return datasets.load_dataset("json", data_files=path, split="train")


for s in ["train", "val"]:
    ds = load_json(f"{out}/jsonl/{s}.jsonl")
    res[f"jsonl/{s}"] = {"rows": ds.num_rows, "first": ds[0]}
    path = f"{out}/parquet/{s}.parquet"
    t = pq.read_table(path)
    dp = datasets.load_dataset("parquet", data_files=path, split="train")
    res[f"parquet/{s}"] = {
        "rows": t.num_rows,
        "first": t.slice(0, 1).to_pylist()[0],
        "columns": t.column_names,
        "datasets_rows": dp.num_rows,
        "datasets_first": dp[0],
    }

with open(f"{out}/sharegpt/dataset_info.json", encoding="utf-8") as f:
    info = json.load(f)
for name, attr in info.items():
    assert attr.get("formatting") == "sharegpt", attr
    cols = {"messages": "conversations", **attr.get("columns", {})}
    tags = {
        "role_tag": "from",
        "content_tag": "value",
        "user_tag": "human",
        "assistant_tag": "gpt",
        "observation_tag": "observation",
        "function_tag": "function_call",
        "system_tag": "system",
        **attr.get("tags", {}),
    }
    role, content = tags["role_tag"], tags["content_tag"]
    mapping = {
        tags["user_tag"]: "user",
        tags["assistant_tag"]: "assistant",
        tags["observation_tag"]: "observation",
        tags["function_tag"]: "function",
        tags["system_tag"]: "system",
    }
    accept = (
        (tags["user_tag"], tags["observation_tag"]),
        (tags["assistant_tag"], tags["function_tag"]),
    )
    ds = load_json(f"{out}/sharegpt/{attr['file_name']}")
    converted = []
    for ex in ds:
        messages = ex[cols["messages"]]
        if messages and messages[0][role] == tags["system_tag"]:
            system, messages = messages[0][content], messages[1:]
        else:
            system = ex[cols["system"]] if "system" in cols else ""
        aligned, broken = [], False
        for i, m in enumerate(messages):
            if m[role] not in accept[i % 2]:
                broken = True
                break
            aligned.append({"role": mapping[m[role]], "content": m[content]})
        if broken or len(aligned) % 2 != 0:
            continue
        converted.append(
            {"_prompt": aligned[:-1], "_response": aligned[-1:], "_system": system}
        )
    res[f"sharegpt/{name}"] = {
        "rows": ds.num_rows,
        "valid": len(converted),
        "first": converted[0] if converted else None,
    }

print(json.dumps(res, ensure_ascii=False))
