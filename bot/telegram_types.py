"""aiogram's Telegram types, imported without building every validator up front.

`import aiogram.types` ends with a pass that builds the pydantic validator of each of its ~400 types,
each one holding its own copy of everything it can contain. That pass was ~100 MB of the bot's RSS
(a Python process goes from 34 to 168 MB on `import aiogram`) and ~2 s of its start-up
(bench/RESULTS.md §3). The bot meets a handful of those types: an Update and what it holds, and the
answers of about a dozen methods.

`defer_validators()` imports aiogram with that pass skipped, then builds only Update. aiogram declares
its models with `defer_build`, so pydantic builds each one the first time it is used. The pass was also
where the types' forward references ("Chat", "User", … imported only for type checkers) got their names;
instead, every aiogram model gets those names as its parent namespace, which pydantic reads when it
builds the model. A model defined outside aiogram that refers to Telegram types needs the same
(`with_telegram_names`).

This leans on two pydantic details: model_rebuild's `_types_namespace` argument and the
`__pydantic_parent_namespace__` class attribute. tests/test_telegram_types.py checks, for the locked
versions, that every aiogram model still builds this way, with the same fields as after the eager import.
"""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Iterator
from typing import Any, Literal, Optional, TypeVar, Union

from pydantic import BaseModel

log = logging.getLogger("gridbot")
Model = TypeVar("Model", bound=type[BaseModel])


def defer_validators() -> bool:
    """Import aiogram without building its types' validators; False when aiogram.types was already
    imported (then its validators are built and nothing changes). Call before anything imports aiogram."""
    if "aiogram.types" in sys.modules:
        log.debug("aiogram.types was imported already; its validators are built")
        return False
    original = BaseModel.model_rebuild.__func__  # type: ignore[attr-defined]

    def skip_aiogram_types_pass(cls: type[BaseModel], *args: Any, _types_namespace: Any = None,
                                **kwargs: Any) -> bool | None:
        if _types_namespace is not None and cls.__module__.startswith("aiogram.types."):
            return None
        return original(cls, *args, _types_namespace=_types_namespace, **kwargs)  # type: ignore[no-any-return]

    BaseModel.model_rebuild = classmethod(skip_aiogram_types_pass)  # type: ignore[method-assign,assignment]
    try:
        import aiogram  # noqa: F401 — types, methods and client, with the pass skipped
    finally:
        BaseModel.model_rebuild = classmethod(original)  # type: ignore[method-assign,assignment]
    for model in aiogram_models():
        with_telegram_names(model)
    from aiogram.types import Update

    Update.model_rebuild()  # every update needs it: built now (~60 ms), not while a resident waits
    return True


@functools.cache
def telegram_names() -> dict[str, Any]:
    """The names aiogram's own pass resolves the types' forward references with."""
    import aiogram.types
    from aiogram.client.default import Default

    return {"List": list, "Optional": Optional, "Union": Union, "Literal": Literal, "Default": Default,
            **{name: getattr(aiogram.types, name) for name in aiogram.types.__all__}}


def with_telegram_names(model: Model) -> Model:
    """Let `model` resolve Telegram type names when pydantic builds it (usable as a class decorator)."""
    own = model.__dict__.get("__pydantic_parent_namespace__")
    model.__pydantic_parent_namespace__ = {**telegram_names(), **own} if own else telegram_names()
    return model


def aiogram_models() -> Iterator[type[BaseModel]]:
    """Every pydantic model aiogram defines (types, methods, their generic Response)."""
    seen: set[type] = set()
    stack = list(BaseModel.__subclasses__())
    while stack:
        model = stack.pop()
        if model in seen:
            continue
        seen.add(model)
        stack.extend(model.__subclasses__())
        if model.__module__.startswith("aiogram."):
            yield model
