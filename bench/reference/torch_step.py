# PyTorch reference for `npm run bench:engine`: the same BP training step (SGD momentum) on
# the same LeNet / VGG shapes and thread count. Prints img/s for one model.
import sys, time, torch, torch.nn as nn, torch.nn.functional as F

model, batch, steps, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
device = sys.argv[5] if len(sys.argv) > 5 else "cpu"  # the same device targetprop runs on
torch.set_num_threads(threads)
torch.manual_seed(0)
act = nn.ELU()  # the models default to ELU, as scalingDTP
if model == "lenet":
    net = nn.Sequential(nn.Conv2d(1, 32, 5, padding=2), act, nn.MaxPool2d(3, 2, 1), nn.Conv2d(32, 64, 5, padding=2), act,
                        nn.MaxPool2d(3, 2, 1), nn.Flatten(), nn.Linear(64 * 7 * 7, 512), act, nn.Linear(512, 10))
    shape = (batch, 1, 28, 28)
else:
    layers, cin = [], 3
    for c in [128, 128, 256, 256, 512]:
        layers += [nn.Conv2d(cin, c, 3, padding=1), act, nn.MaxPool2d(2, 2)]
        cin = c
    net = nn.Sequential(*layers, nn.Flatten(), nn.Linear(512, 10))
    shape = (batch, 3, 32, 32)
net = net.to(device)
opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
x, y = torch.randn(shape, device=device), torch.randint(0, 10, (batch,), device=device)
sync = torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)
def step():
    opt.zero_grad(set_to_none=True)
    F.cross_entropy(net(x), y).backward()
    opt.step()
for _ in range(2): step()
sync()
t = time.perf_counter()
for _ in range(steps): step()
sync()
print(batch * steps / (time.perf_counter() - t))
