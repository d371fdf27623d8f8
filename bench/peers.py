"""The PyTorch and scikit-learn sides of the benchmarks, started from deepstep's weights.

Both take parameters in course layout (W{l} (n[l], n[l-1]), b{l} (n[l], 1)) and examples as
columns X (n_x, m); they convert once, outside the timed region.
"""

from __future__ import annotations

import warnings

import numpy as np

from common import Timer


def torch_mlp(torch, params: dict, dtype):
    """nn.Sequential of Linear + ReLU (no output activation: the loss takes logits)."""
    L = len(params) // 2
    layers = []
    for l in range(1, L + 1):
        W = params[f"W{l}"]
        lin = torch.nn.Linear(W.shape[1], W.shape[0], dtype=dtype)
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(np.asarray(W)))
            lin.bias.copy_(torch.from_numpy(np.asarray(params[f"b{l}"]).ravel()))
        layers += [lin, torch.nn.ReLU()] if l < L else [lin]
    return torch.nn.Sequential(*layers)


def torch_weights(model) -> dict:
    """The model's parameters back in course layout, float64."""
    out = {}
    linears = [m for m in model if hasattr(m, "weight")]
    for l, lin in enumerate(linears, 1):
        out[f"W{l}"] = lin.weight.detach().double().numpy().copy()
        out[f"b{l}"] = lin.bias.detach().double().numpy().reshape(-1, 1).copy()
    return out


def torch_gd_binary(torch, timer: Timer, X, Y, params, lr, iterations):
    """Full-batch gradient descent, BCE with logits; costs every 100 iterations."""
    model = torch_mlp(torch, params, torch.float32)
    Xt = torch.from_numpy(np.ascontiguousarray(X.T, dtype=np.float32))
    Yt = torch.from_numpy(np.ascontiguousarray(Y.T, dtype=np.float32))
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    loss_fn = torch.nn.BCEWithLogitsLoss()
    costs = []
    with timer:
        for i in range(iterations):
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(Xt), Yt)
            loss.backward()
            opt.step()
            if i % 100 == 0 or i == iterations - 1:
                costs.append(loss.item())
    return {"costs": costs, "model": model}


def torch_adam_softmax(torch, timer: Timer, X, y, params, lr, epochs, batch_size, seed=0):
    """Mini-batch Adam, cross-entropy on logits; batches gathered with a random permutation."""
    model = torch_mlp(torch, params, torch.float32)
    Xt = torch.from_numpy(np.ascontiguousarray(X.T, dtype=np.float32))
    yt = torch.from_numpy(np.asarray(y, dtype=np.int64))
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    loss_fn = torch.nn.CrossEntropyLoss()
    gen = torch.Generator().manual_seed(seed)
    m = Xt.shape[0]
    with timer:
        for _ in range(epochs):
            perm = torch.randperm(m, generator=gen)
            for k in range(0, m, batch_size):
                idx = perm[k:k + batch_size]
                opt.zero_grad(set_to_none=True)
                loss = loss_fn(model(Xt[idx]), yt[idx])
                loss.backward()
                opt.step()
    return {"model": model}


def torch_predict(torch, model, X) -> np.ndarray:
    with torch.no_grad():
        out = model(torch.from_numpy(np.ascontiguousarray(X.T, dtype=np.float32)))
    return out.numpy().T


def sklearn_mlp(MLPClassifier, timer: Timer, X, y, params, dtype, **kw):
    """MLPClassifier started from ``params`` (coefs_ = W.T), trained for ``max_iter`` epochs.

    scikit-learn has no argument for initial weights: a one-epoch fit builds the structure,
    the weights are overwritten, and a warm-started fit (timed) trains from them.
    """
    L = len(params) // 2
    hidden = tuple(params[f"W{l}"].shape[0] for l in range(1, L))
    Xs = np.ascontiguousarray(X.T, dtype=dtype)
    yv = np.asarray(y).ravel()
    epochs = kw.pop("max_iter")
    clf = MLPClassifier(hidden_layer_sizes=hidden, activation="relu", alpha=0.0, max_iter=1,
                        warm_start=True, tol=0.0, n_iter_no_change=10**9, **kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf.fit(Xs, yv)
        # always a copy: ascontiguousarray of a (1, n) weight's transpose is a view, and
        # scikit-learn trains coefs_ in place (it moved the caller's W4 for every later run)
        clf.coefs_ = [np.array(params[f"W{l}"].T, dtype=dtype, order="C", copy=True)
                      for l in range(1, L + 1)]
        clf.intercepts_ = [np.asarray(params[f"b{l}"], dtype=dtype).ravel().copy()
                           for l in range(1, L + 1)]
        clf.loss_curve_ = []
        clf.set_params(max_iter=epochs)
        with timer:
            clf.fit(Xs, yv)
    return {"model": clf, "loss_curve": clf.loss_curve_}
