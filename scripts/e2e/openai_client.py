#!/usr/bin/env python3
"""End-to-end test of `reanchor serve` with the official `openai` Python client.

Lists models, completes, chats, streams, asks for logprobs, hits every error status (400, 401, 404, 413, 429,
503), continues a conversation and checks cached_tokens > 0, ingests passages as documents and asks with
`reanchor.documents` in two orders and with the passages pasted inline in a third (cached_tokens > 0 each time;
blend at ratio 1.0 answers as full recompute), disconnects mid-stream and checks the sequence is
cancelled (and during a non-streamed completion), then runs a bounded load (32 concurrent streaming clients x 3
rounds, loopback only) with zero
errors, reporting p50/p99 TTFT and aggregate tokens/s. The 503 check sends SIGTERM to the server (--server-pid)
while a stream is in flight: the stream must still finish, new requests get 503.
Prints `N passed, N failed` and exits non-zero on any failure.
"""
import argparse
import asyncio
import json
import os
import signal
import statistics
import sys
import time
import urllib.request

import openai

CHECKS = {"passed": 0, "failed": 0}


def check(condition, what):
    if condition:
        CHECKS["passed"] += 1
        print(f"  ok   {what}")
    else:
        CHECKS["failed"] += 1
        print(f"  FAIL {what}")
    return condition


def expect_status(status, what, call):
    try:
        call()
    except openai.APIStatusError as error:
        body = error.body if isinstance(error.body, dict) else {}
        shaped = all(key in body for key in ("message", "type", "param", "code"))
        check(error.status_code == status and shaped, f"{what}: {error.status_code} (expected {status}) {body.get('message', '')!r}")
        return error
    check(False, f"{what}: no error (expected {status})")
    return None


def metrics(base, key):
    request = urllib.request.Request(base + "/metrics", headers={"Authorization": f"Bearer {key}"})
    values = {}
    with urllib.request.urlopen(request, timeout=10) as response:
        for line in response.read().decode().splitlines():
            if line and not line.startswith("#"):
                name, _, value = line.rpartition(" ")
                values[name] = float(value)
    return values


def wait_idle(base, key, seconds=20.0):
    deadline = time.time() + seconds
    while time.time() < deadline:
        values = metrics(base, key)
        if values.get("reanchor_sequences_running", 1) == 0 and values.get("reanchor_sequences_queued", 1) == 0:
            return True
        time.sleep(0.05)
    return False


def rss_mib(pid):
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def basics(client, model):
    print("models, completions, chat")
    models = client.models.list()
    check([m.id for m in models.data] == [model], f"models.list -> {[m.id for m in models.data]}")
    completion = client.completions.create(model=model, prompt="It is a truth universally acknowledged, that",
                                           max_tokens=8, temperature=0)
    check(completion.object == "text_completion" and completion.choices[0].text != "", f"completion: {completion.choices[0].text!r}")
    check(completion.usage.completion_tokens == 8 and completion.choices[0].finish_reason == "length", "completion usage and finish_reason")
    extra = completion.usage.model_dump().get("reanchor") or {}
    check(extra.get("ttft_ms", 0) > 0 and "reused_tokens" in extra and "recomputed_tokens" in extra, f"usage.reanchor: {extra}")
    chat = client.chat.completions.create(model=model, messages=[{"role": "system", "content": "You tell stories."},
                                                                 {"role": "user", "content": "Tell me about the sea."}],
                                          max_tokens=10, temperature=0.7, seed=3,
                                          extra_body={"reanchor": {"top_k": 40, "repetition_penalty": 1.1}})
    check(chat.choices[0].message.role == "assistant" and chat.usage.completion_tokens <= 10, f"chat: {chat.choices[0].message.content!r}")


def streaming(client, model):
    print("streaming")
    stream = client.chat.completions.create(model=model, messages=[{"role": "user", "content": "Where did the ship go?"}],
                                            max_tokens=12, temperature=0, stream=True, stream_options={"include_usage": True})
    text, reasons, usage = "", [], None
    for chunk in stream:
        if chunk.usage is not None:
            usage = chunk.usage
        for choice in chunk.choices:
            text += choice.delta.content or ""
            if choice.finish_reason:
                reasons.append(choice.finish_reason)
    whole = client.chat.completions.create(model=model, messages=[{"role": "user", "content": "Where did the ship go?"}],
                                           max_tokens=12, temperature=0)
    check(text == whole.choices[0].message.content, f"streamed text equals the whole answer: {text!r}")
    check(reasons == ["length"] and usage is not None and usage.completion_tokens == 12, f"stream finish {reasons}, usage {usage}")
    pieces = [c.choices[0].text for c in client.completions.create(model=model, prompt="The old man", max_tokens=6,
                                                                    temperature=0, stream=True) if c.choices]
    check(len(pieces) >= 2 and "".join(pieces) != "", f"completion stream: {''.join(pieces)!r}")


def logprobs(client, model):
    print("logprobs")
    chat = client.chat.completions.create(model=model, messages=[{"role": "user", "content": "Hello"}], max_tokens=5,
                                          temperature=0, logprobs=True, top_logprobs=3)
    content = chat.choices[0].logprobs.content
    good = len(content) == 5 and all(len(e.top_logprobs) == 3 and e.logprob <= 0 and e.top_logprobs[0].token == e.token
                                     and isinstance(e.bytes, list) for e in content)
    check(good, f"chat logprobs: {[(e.token, round(e.logprob, 3)) for e in content]}")
    legacy = client.completions.create(model=model, prompt="She said", max_tokens=5, temperature=0, logprobs=2).choices[0].logprobs
    check(len(legacy.tokens) == 5 and len(legacy.token_logprobs) == 5 and len(legacy.top_logprobs) == 5
          and legacy.text_offset[0] == 0 and legacy.text_offset == sorted(legacy.text_offset), f"legacy logprobs: {legacy.tokens}")


def errors(client, base, model, pid):
    print("error statuses")
    expect_status(400, "wrong type names the field", lambda: client.chat.completions.create(
        model=model, messages=[{"role": "user", "content": "x"}], extra_body={"max_tokens": "ten"}))
    expect_status(400, "n=2", lambda: client.completions.create(model=model, prompt="x", n=2))
    expect_status(404, "unknown model", lambda: client.completions.create(model="no-such-model", prompt="x"))
    wrong_key = openai.OpenAI(base_url=base + "/v1", api_key="sk-wrong", max_retries=0)
    expect_status(401, "wrong API key", lambda: wrong_key.models.list())
    expect_status(413, "oversize body", lambda: client.completions.create(model=model, prompt="a" * (5 << 20), max_tokens=1))


async def queue_full(base, key, model):
    """More concurrent streams than running + queued slots: some get 429 with Retry-After."""
    client = openai.AsyncOpenAI(base_url=base + "/v1", api_key=key, max_retries=0)
    statuses = []

    async def one(index):
        try:
            stream = await client.completions.create(model=model, prompt=f"Story {index}:", max_tokens=100, stream=True)
            async for _ in stream:
                break
            await stream.close()
            statuses.append(200)
        except openai.RateLimitError as error:
            statuses.append((429, error.response.headers.get("retry-after")))
        except openai.APIStatusError as error:
            statuses.append(error.status_code)

    await asyncio.gather(*(one(i) for i in range(64)))
    refused = [s for s in statuses if isinstance(s, tuple)]
    check(refused and all(r[1] and int(r[1]) >= 1 for r in refused),
          f"queue full: {len(refused)} of 64 got 429 with Retry-After {refused[0][1] if refused else None}")
    check(all(s == 200 or isinstance(s, tuple) for s in statuses), "every other request succeeded")
    await client.close()


def cached_conversation(client, model):
    print("multi-turn reuse")
    messages = [{"role": "system", "content": "You are a storyteller of the old sea."},
                {"role": "user", "content": "Tell me of the captain and his ship, and of the long voyage north."}]
    first = client.chat.completions.create(model=model, messages=messages, max_tokens=16, temperature=0)
    messages += [{"role": "assistant", "content": first.choices[0].message.content}, {"role": "user", "content": "And then?"}]
    second = client.chat.completions.create(model=model, messages=messages, max_tokens=16, temperature=0)
    cached = second.usage.prompt_tokens_details.cached_tokens
    check(cached > 0, f"continued conversation: cached_tokens {cached} of {second.usage.prompt_tokens} prompt tokens")


PASSAGES = [
    "The lighthouse keeper climbed the narrow stairs every evening, lit the great lamp, and watched the ships pass the rocks until dawn.",
    "In the village below, the baker rose before the sun, kneaded the dough by candlelight, and sold warm bread to the fishermen.",
    "Far inland, a young scholar copied old maps by hand, tracing rivers and roads that no traveller had followed for a hundred years.",
]


def documents_cdn(client, base, key, model):
    print("documents and chunk reuse")
    ids = []
    for passage in PASSAGES:
        body = json.dumps({"text": passage}).encode()
        request = urllib.request.Request(base + "/v1/documents", data=body, method="POST",
                                         headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=60) as response:
            ids.append(json.loads(response.read())["id"])
    check(len(ids) == 3, f"ingested {len(ids)} documents")
    question = [{"role": "system", "content": "Answer briefly."}, {"role": "user", "content": "Who rose before the sun?"}]

    def ask(order, reuse, messages=question, documents=True):
        extra = {"reanchor": {"reuse": reuse, **({"documents": [ids[i] for i in order]} if documents else {})}}
        return client.chat.completions.create(model=model, messages=messages, max_tokens=12, temperature=0, extra_body=extra)

    def cached(answer):
        return answer.usage.prompt_tokens_details.cached_tokens

    first = ask([0, 1, 2], {"mode": "blend"})
    second = ask([2, 0, 1], {"mode": "blend"})
    pasted = [question[0], {"role": "user", "content": "\n\n".join(PASSAGES[i] for i in [1, 2, 0]) + "\n\nWho rose before the sun?"}]
    inline = ask(None, {"mode": "blend"}, messages=pasted, documents=False)
    for name, answer in [("documents in order", first), ("documents reordered", second), ("passages pasted inline", inline)]:
        check(cached(answer) > 0, f"{name}: cached_tokens {cached(answer)} of {answer.usage.prompt_tokens}, "
                                  f"recomputed {(answer.usage.model_dump().get('reanchor') or {}).get('recomputed_tokens')}")
    whole = ask([2, 0, 1], {"mode": "blend", "recompute_ratio": 1.0})
    full = ask([2, 0, 1], {"mode": "full"})
    check(whole.choices[0].message.content == full.choices[0].message.content and cached(full) == 0,
          f"blend at ratio 1.0 answers as full recompute: {whole.choices[0].message.content!r}")


def disconnect(client, base, key, model):
    print("disconnect mid-stream")
    before = metrics(base, key).get("reanchor_generated_tokens_total", 0)
    stream = client.completions.create(model=model, prompt="Once upon a time", max_tokens=900, stream=True,
                                       extra_body={"reanchor": {"overflow": "reanchor"}})
    received = 0
    for chunk in stream:
        received += 1
        if received == 3:
            break
    stream.close()
    idle = wait_idle(base, key, seconds=5)
    generated = metrics(base, key).get("reanchor_generated_tokens_total", 0) - before
    check(idle and generated < 900, f"the sequence was cancelled: running 0, {generated:.0f} of 900 tokens generated")


def disconnect_whole(client, base, key, model):
    """A non-streamed completion writes nothing before it ends: the server sees the client go away on the
    connection's inbound side and cancels the sequence (ignore_eos, so only cancellation stops it early)."""
    print("disconnect during a non-streamed completion")
    before = metrics(base, key).get("reanchor_generated_tokens_total", 0)
    try:
        client.with_options(timeout=0.3, max_retries=0).completions.create(
            model=model, prompt="Once upon a time", max_tokens=20000, extra_body={"reanchor": {"ignore_eos": True}})
        check(False, "the non-streamed completion should have outlasted the client's 0.3 s timeout")
        return
    except openai.APITimeoutError:
        pass
    idle = wait_idle(base, key, seconds=5)
    generated = metrics(base, key).get("reanchor_generated_tokens_total", 0) - before
    # 20000 tokens take the embedded model many seconds; only cancellation ends it within wait_idle's 5 s.
    check(idle and generated < 20000, f"the non-streamed sequence was cancelled: running 0, {generated:.0f} of 20000 tokens generated")


async def load(base, key, model, clients, rounds, pid):
    print(f"load: {clients} concurrent streaming clients x {rounds} rounds")
    client = openai.AsyncOpenAI(base_url=base + "/v1", api_key=key, max_retries=0)
    ttfts, errors, tokens, elapsed, peak_rss = [], [], 0, 0.0, 0.0

    async def one(index):
        nonlocal tokens
        start = time.perf_counter()
        first = None
        try:
            stream = await client.chat.completions.create(
                model=model, messages=[{"role": "user", "content": f"Tell story number {index} about the sea."}],
                max_tokens=48, temperature=0.8, seed=index, stream=True, stream_options={"include_usage": True})
            async for chunk in stream:
                if first is None and chunk.choices and chunk.choices[0].delta.content:
                    first = time.perf_counter() - start
                if chunk.usage is not None:
                    tokens += chunk.usage.completion_tokens
            ttfts.append(first if first is not None else time.perf_counter() - start)
        except Exception as error:  # counted, reported
            errors.append(repr(error))

    for round_index in range(rounds):
        start = time.perf_counter()
        await asyncio.gather(*(one(round_index * clients + i) for i in range(clients)))
        elapsed += time.perf_counter() - start
        if pid:
            peak_rss = max(peak_rss, rss_mib(pid) or 0)
    await client.close()
    ttfts.sort()
    p50 = statistics.median(ttfts) * 1000 if ttfts else float("nan")
    p99 = ttfts[min(len(ttfts) - 1, int(round(0.99 * (len(ttfts) - 1))))] * 1000 if ttfts else float("nan")
    figures = {"clients": clients, "rounds": rounds, "requests": clients * rounds, "errors": len(errors),
               "ttft_p50_ms": round(p50, 1), "ttft_p99_ms": round(p99, 1), "completion_tokens": tokens,
               "aggregate_tokens_per_second": round(tokens / elapsed, 1) if elapsed else 0, "peak_rss_mib": round(peak_rss, 1)}
    print("  figures: " + json.dumps(figures))
    check(not errors, f"zero errors under load ({errors[:3]})")
    check(peak_rss == 0 or peak_rss < 4096, f"RSS bounded: peak {peak_rss:.0f} MiB")
    return figures


def shutdown(client, base, key, model, pid):
    print("graceful shutdown (SIGTERM)")
    # Long enough (ignore_eos, 1000 tokens: seconds on the embedded model) that the server is still finishing it
    # when the new request arrives, and well inside the 10 s grace period.
    stream = client.completions.create(model=model, prompt="It was a dark night", max_tokens=1000, stream=True,
                                       extra_body={"reanchor": {"overflow": "reanchor", "ignore_eos": True}})
    iterator = iter(stream)
    next(iterator)
    os.kill(pid, signal.SIGTERM)
    # Until the server has handled the signal a request still succeeds; then it must get 503 (not a refused
    # connection: the in-flight stream keeps the server up).
    deadline = time.monotonic() + 5
    while True:
        try:
            client.completions.create(model=model, prompt="x", max_tokens=2)
        except openai.APIStatusError:
            break
        except openai.APIConnectionError as error:
            check(False, f"new request while shutting down: connection failed ({error}), expected 503")
            return
        if time.monotonic() > deadline:
            break
        time.sleep(0.05)
    expect_status(503, "new request while shutting down", lambda: client.completions.create(model=model, prompt="x", max_tokens=2))
    reasons = [c.choices[0].finish_reason for c in iterator if c.choices and c.choices[0].finish_reason]
    check(reasons in (["length"], ["stop"]), f"the in-flight stream finished during the grace period: {reasons}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--api-key", required=True)
    parser.add_argument("--model", required=True)
    parser.add_argument("--server-pid", type=int, default=0)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--figures", help="write the load figures as JSON here")
    args = parser.parse_args()
    client = openai.OpenAI(base_url=args.base_url + "/v1", api_key=args.api_key, max_retries=0, timeout=120)
    basics(client, args.model)
    streaming(client, args.model)
    logprobs(client, args.model)
    errors(client, args.base_url, args.model, args.server_pid)
    cached_conversation(client, args.model)
    documents_cdn(client, args.base_url, args.api_key, args.model)
    disconnect(client, args.base_url, args.api_key, args.model)
    disconnect_whole(client, args.base_url, args.api_key, args.model)
    check(wait_idle(args.base_url, args.api_key), "idle before the queue-full burst")
    asyncio.run(queue_full(args.base_url, args.api_key, args.model))
    check(wait_idle(args.base_url, args.api_key), "idle before the load")
    figures = asyncio.run(load(args.base_url, args.api_key, args.model, args.clients, args.rounds, args.server_pid))
    if args.figures:
        with open(args.figures, "w") as out:
            json.dump(figures, out, indent=2)
    if args.server_pid:
        shutdown(client, args.base_url, args.api_key, args.model, args.server_pid)
    print(f"{CHECKS['passed']} passed, {CHECKS['failed']} failed")
    sys.exit(1 if CHECKS["failed"] else 0)


if __name__ == "__main__":
    main()
