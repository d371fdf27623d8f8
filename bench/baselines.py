"""The comparison points written in NumPy for the benchmarks (not part of deepstep).

- ``course_loop``: the course's application-notebook loop, as a student writes it (textbook
  dAL, caches, every dA including dA0, a new dict of parameters every step).
- ``numpy_adam_loop``: a plain NumPy mini-batch loop with Adam (batches gathered as columns
  of the (n_x, m) array, the optimiser written with temporaries).
- ``products_cat`` / ``products_mnist``: the matrix products of a training step alone, written
  into preallocated outputs, with no dA0 and no elementwise work: the BLAS bound.
"""

from __future__ import annotations

import numpy as np

# --- the course loop (float64, full batch gradient descent) ---------------------------------


def _sigmoid(Z):
    return 1 / (1 + np.exp(-Z)), Z


def _relu(Z):
    return np.maximum(0, Z), Z


def _forward(X, params):
    caches = []
    A = X
    L = len(params) // 2
    for l in range(1, L):
        A_prev = A
        Z = params[f"W{l}"] @ A_prev + params[f"b{l}"]
        A, _ = _relu(Z)
        caches.append(((A_prev, params[f"W{l}"], params[f"b{l}"]), Z))
    Z = params[f"W{L}"] @ A + params[f"b{L}"]
    AL, _ = _sigmoid(Z)
    caches.append(((A, params[f"W{L}"], params[f"b{L}"]), Z))
    return AL, caches


def _cost(AL, Y):
    m = Y.shape[1]
    return float(np.squeeze(-1 / m * np.sum(Y * np.log(AL) + (1 - Y) * np.log(1 - AL))))


def _linear_backward(dZ, cache):
    A_prev, W, _ = cache
    m = A_prev.shape[1]
    dW = 1 / m * dZ @ A_prev.T
    db = 1 / m * np.sum(dZ, axis=1, keepdims=True)
    return W.T @ dZ, dW, db


def _backward(AL, Y, caches):
    grads = {}
    L = len(caches)
    dAL = -(np.divide(Y, AL) - np.divide(1 - Y, 1 - AL))
    (lin, Z) = caches[L - 1]
    s = 1 / (1 + np.exp(-Z))
    dA, grads[f"dW{L}"], grads[f"db{L}"] = _linear_backward(dAL * s * (1 - s), lin)
    for l in reversed(range(L - 1)):
        lin, Z = caches[l]
        dZ = np.array(dA, copy=True)
        dZ[Z <= 0] = 0
        dA, grads[f"dW{l + 1}"], grads[f"db{l + 1}"] = _linear_backward(dZ, lin)
    return grads


def course_loop(X, Y, params, lr, iterations):
    """The application notebook's L_layer_model body; returns (params, costs every 100)."""
    params = {k: v.copy() for k, v in params.items()}
    costs = []
    for i in range(iterations):
        AL, caches = _forward(X, params)
        cost = _cost(AL, Y)
        grads = _backward(AL, Y, caches)
        params = {k: v - lr * grads["d" + k] for k, v in params.items()}
        if i % 100 == 0 or i == iterations - 1:
            costs.append(cost)
    return params, costs


# --- a plain NumPy mini-batch Adam loop (softmax output) ------------------------------------


def numpy_adam_loop(X, Y, params, lr, epochs, batch_size, rng, beta1=0.9, beta2=0.999,
                    eps=1e-8):
    """ReLU hidden layers, softmax + cross-entropy, Adam; X (n_x, m), Y one-hot (k, m)."""
    params = {k: v.copy() for k, v in params.items()}
    v = {k: np.zeros_like(p) for k, p in params.items()}
    s = {k: np.zeros_like(p) for k, p in params.items()}
    L = len(params) // 2
    m = X.shape[1]
    t = 0
    for _ in range(epochs):
        perm = rng.permutation(m)
        for k in range(0, m, batch_size):
            idx = perm[k:k + batch_size]
            Xb, Yb = X[:, idx], Y[:, idx]
            b = Xb.shape[1]
            As = [Xb]
            for l in range(1, L + 1):
                Z = params[f"W{l}"] @ As[-1] + params[f"b{l}"]
                if l < L:
                    As.append(np.maximum(Z, 0))
                else:
                    E = np.exp(Z - Z.max(axis=0, keepdims=True))
                    As.append(E / E.sum(axis=0, keepdims=True))
            dZ = (As[-1] - Yb) / b
            grads = {}
            for l in range(L, 0, -1):
                grads[f"W{l}"] = dZ @ As[l - 1].T
                grads[f"b{l}"] = dZ.sum(axis=1, keepdims=True)
                if l > 1:
                    dZ = (params[f"W{l}"].T @ dZ) * (As[l - 1] > 0)
            t += 1
            for key, g in grads.items():
                v[key] = beta1 * v[key] + (1 - beta1) * g
                s[key] = beta2 * s[key] + (1 - beta2) * g**2
                v_hat = v[key] / (1 - beta1**t)
                s_hat = s[key] / (1 - beta2**t)
                params[key] = params[key] - lr * v_hat / (np.sqrt(s_hat) + eps)
    return params


# --- the BLAS bound: products only ----------------------------------------------------------


class Products:
    """The matrix products of one training step on fixed buffers (no dA0, no elementwise).

    ``dims`` = [n[0], ..., n[L]]; ``step(X)`` runs, for a batch X (n[0], b): Z[l] = W[l] A[l-1]
    forward, then dW[l] = dZ[l] A[l-1].T for every layer and dA[l-1] = W[l].T dZ[l] for l > 1.
    """

    def __init__(self, dims, b, dtype, rng):
        self.W = [rng.standard_normal((dims[l], dims[l - 1])).astype(dtype)
                  for l in range(1, len(dims))]
        self.Z = [np.zeros((n, b), dtype) for n in dims[1:]]
        self.dW = [np.zeros_like(W) for W in self.W]
        self.dA = [np.zeros((n, b), dtype) for n in dims[1:-1]]

    def step(self, X):
        A = X
        for W, Z in zip(self.W, self.Z, strict=True):
            np.matmul(W, A, out=Z)
            A = Z
        for l in range(len(self.W) - 1, -1, -1):
            A_prev = X if l == 0 else self.Z[l - 1]
            np.matmul(self.Z[l], A_prev.T, out=self.dW[l])
            if l > 0:
                np.matmul(self.W[l].T, self.Z[l], out=self.dA[l - 1])
