# PyTorch reference for `npm run bench:methods`: a BP step and a TJML-DTP step with exact J^T
# feedback written the way PyTorch makes cheapest, one VJP per block: torch.autograd.grad of the
# block's output, with the target offset as grad-output, with respect to [its params, its input]
# gives the local loss's gradients and the offset below at once (the difference correction of an
# exact J^T feedback is J^T d). Same models and block boundaries as targetprop's (src/models).
# Usage: torch_methods.py lenet|simple-vgg|mixer bp|tjml-exact batch steps threads [device]
# Prints seconds per training image.
import sys, time, torch, torch.nn as nn, torch.nn.functional as F

model, method, batch, steps, threads = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
device = sys.argv[6] if len(sys.argv) > 6 else "cpu"
torch.set_num_threads(threads)
torch.manual_seed(0)


class Tokens(nn.Module):  # [B, C, H, W] -> [B, HW, C]
    def forward(self, x):
        return x.flatten(2).transpose(1, 2)


class T12(nn.Module):
    def forward(self, x):
        return x.transpose(1, 2)


class Residual(nn.Module):
    def __init__(self, *layers):
        super().__init__()
        self.f = nn.Sequential(*layers)

    def forward(self, x):
        return x + self.f(x)


class TokenMean(nn.Module):
    def forward(self, x):
        return x.mean(1)


def blocks():
    if model == "lenet":
        return (1, 28, 28), [
            nn.Sequential(nn.Conv2d(1, 32, 5, padding=2), nn.ELU(), nn.MaxPool2d(3, 2, 1)),
            nn.Sequential(nn.Conv2d(32, 64, 5, padding=2), nn.ELU(), nn.MaxPool2d(3, 2, 1)),
            nn.Sequential(nn.Flatten(), nn.Linear(64 * 7 * 7, 512), nn.ELU()),
            nn.Sequential(nn.Linear(512, 10)),
        ]
    if model == "simple-vgg":
        bs, cin = [], 3
        for c in [128, 128, 256, 256, 512]:
            bs.append(nn.Sequential(nn.Conv2d(cin, c, 3, padding=1), nn.ELU(), nn.MaxPool2d(2, 2)))
            cin = c
        return (3, 32, 32), bs + [nn.Sequential(nn.Flatten(), nn.Linear(512, 10))]
    # mixer: patch 4, width 128, token hidden 64, channel hidden 512, 4 blocks, LeakyReLU(0.01)
    C, T = 128, 64
    bs = [nn.Sequential(nn.Conv2d(3, C, 4, 4), Tokens())]
    for _ in range(4):
        bs.append(Residual(nn.LayerNorm(C), T12(), nn.Linear(T, 64), nn.LeakyReLU(0.01), nn.Linear(64, T), T12()))
        bs.append(Residual(nn.LayerNorm(C), nn.Linear(C, 512), nn.LeakyReLU(0.01), nn.Linear(512, C)))
    return (3, 32, 32), bs + [nn.Sequential(nn.LayerNorm(C), TokenMean(), nn.Linear(C, 10))]


shape, bl = blocks()
net = nn.Sequential(*bl).to(device)
opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
x, y = torch.randn((batch, *shape), device=device), torch.randint(0, 10, (batch,), device=device)
beta = 0.01
sync = torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)


def bp_step():
    opt.zero_grad(set_to_none=True)
    F.cross_entropy(net(x), y).backward()
    opt.step()


def tjml_step():
    # forward on detached block inputs (blocks above the first take their input's gradient)
    ins, outs = [], []
    h = x
    for n, b in enumerate(bl):
        h = h.detach().requires_grad_(n > 0)
        ins.append(h)
        h = b(h)
        outs.append(h)
    with torch.no_grad():
        d = -beta * (F.softmax(outs[-1], 1) - F.one_hot(y, 10).to(outs[-1].dtype))
    scale = -1.0 / (beta * batch)
    for n in range(len(bl) - 1, -1, -1):
        ps = list(bl[n].parameters())
        wrt = ps + ([ins[n]] if n > 0 else [])
        g = torch.autograd.grad(outs[n], wrt, d)
        for p, gp in zip(ps, g):
            p.grad = gp * scale
        if n > 0:
            d = g[-1]
    opt.step()


step = bp_step if method == "bp" else tjml_step
for _ in range(2):
    step()
sync()
t = time.perf_counter()
for _ in range(steps):
    step()
sync()
print((time.perf_counter() - t) / (batch * steps))
