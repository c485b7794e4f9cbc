"""WeChat Official Account mass messaging (群发): compose, target, preview, schedule, fan out in
chunks of ≤ 10,000 openids with a deterministic clientmsgid each, and resume after a crash."""
