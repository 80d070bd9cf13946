#!/usr/bin/env python3
"""torch_baseline.py LIST.csv OUT.csv [--sms N] [--warmup 5] [--repeats 30] — PyTorch latency of the
same configurations, for comparison with `tessera profiles measure`: fp16 eval-mode models with
random weights (torchvision resnet50, mobilenet_v2, vgg16; transformers BertModel and GPT2Model
built from their default configs, which are bert-base and GPT-2 small — no download), each batch
captured once as a CUDA graph and replayed: median of `repeats` replays timed with CUDA events after
`warmup` untimed ones. PyTorch runs on the whole GPU: only rows of LIST whose partition is
`sm:<SMs of the GPU>` (or `whole`) are measured. Models whose library is missing are skipped with a
note. Writes a canonical profile table (source measured) that compare_profiles.py reads.
Exit code 3 when torch or CUDA is unavailable (run_all.sh then skips the comparison).
"""
import argparse
import csv
import statistics
import sys


def build(model, torch):
    if model in ("resnet50", "mobilenet_v2", "vgg16"):
        import torchvision.models as tvm
        return getattr(tvm, model)(weights=None)
    if model == "bert_base":
        from transformers import BertConfig, BertModel
        return BertModel(BertConfig())
    if model == "gpt2":
        from transformers import GPT2Config, GPT2Model
        return GPT2Model(GPT2Config())
    raise ImportError(f"no PyTorch model for {model}")


def example(model, batch, size, torch):
    if model in ("bert_base", "gpt2"):
        return torch.randint(0, 1000, (batch, size), device="cuda")
    return torch.randn(batch, 3, size, size, device="cuda", dtype=torch.half)


def time_graph(net, x, warmup, repeats, torch):
    stream = torch.cuda.Stream()
    stream.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(stream), torch.no_grad():
        for _ in range(3):
            net(x)
    torch.cuda.current_stream().wait_stream(stream)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph), torch.no_grad():
        net(x)
    for _ in range(warmup):
        graph.replay()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    times = []
    for _ in range(repeats):
        start.record()
        graph.replay()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end))
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("list")
    parser.add_argument("out")
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()
    try:
        import torch
    except ImportError:
        print("torch is not installed: no PyTorch baseline")
        return 3
    if not torch.cuda.is_available():
        print("torch sees no CUDA device: no PyTorch baseline")
        return 3
    sms = torch.cuda.get_device_properties(0).multi_processor_count
    with open(args.list, newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["partition"] in (f"sm:{sms}", "whole")]
    nets, out = {}, []
    for r in rows:
        model, size, batch = r["model"], int(r["input"]), int(r["batch"])
        if model not in nets:
            try:
                nets[model] = build(model, torch).half().cuda().eval()
            except Exception as e:  # a missing library or model: skip it
                print(f"skipping {model}: {e}")
                nets[model] = None
        if nets[model] is None:
            continue
        ms = time_graph(nets[model], example(model, batch, size, torch), args.warmup,
                        args.repeats, torch)
        print(f"torch {model} input {size} batch {batch}: {ms:.4f} ms", flush=True)
        out.append([r["gpu"], f"sm:{sms}", model, size, batch, 1, f"{ms:.4f}", "", "measured"])
    with open(args.out, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["gpu", "partition", "model", "input", "batch", "procs", "latency_ms",
                    "memory_mib", "source"])
        w.writerows(out)
    print(f"{len(out)} PyTorch rows in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
