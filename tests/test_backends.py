"""Request mapping and response parsing of every registered server type (no I/O)."""

from __future__ import annotations

import pytest

from nemo_skills.errors import ConfigError
from nemo_skills.inference.model.backend import MODEL_BACKENDS, get_backend
from nemo_skills.inference.model.config import InferenceConfig, ServerConfig

MESSAGES = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "2+2?"}]
SELF_HOSTED = ["vllm", "sglang", "trtllm"]
HOSTED = ["openai", "azureopenai", "gemini"]
EXTENSIONS = ("top_k", "min_p", "repetition_penalty")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for name in (
        "OPENAI_API_KEY",
        "NEMO_SKILLS_OPENAI_BASE_URL",
        "AZURE_OPENAI_API_KEY",
        "AZURE_OPENAI_ENDPOINT",
        "GEMINI_API_KEY",
        "MY_KEY",
    ):
        monkeypatch.delenv(name, raising=False)


def backend(server_type: str, **server):
    return get_backend(ServerConfig(server_type=server_type, model=server.pop("model", "my-model"), **server))


def params(**values) -> InferenceConfig:
    return InferenceConfig(**values)


# ---------------------------------------------------------------- registry


def test_every_server_type_is_registered():
    assert MODEL_BACKENDS.names() == sorted(
        ["azureopenai", "gemini", "generic", "megatron", "openai", "sglang", "trtllm", "vllm"]
    )


def test_unknown_server_type_suggests_the_nearest():
    with pytest.raises(ConfigError) as error:
        backend("vlm")
    assert "Unknown server type 'vlm'" in str(error.value)
    assert "Did you mean 'vllm'" in str(error.value)


# ---------------------------------------------------------------- self-hosted: vLLM, SGLang, TensorRT-LLM


def test_vllm_chat_defaults():
    request = backend("vllm").build_request(MESSAGES, params())
    assert request.path == "/chat/completions"
    assert request.payload == {
        "model": "my-model",
        "messages": MESSAGES,
        "temperature": 0.0,
        "top_p": 0.95,
        "seed": 0,
        "min_p": 0.0,
        "repetition_penalty": 1.0,
        "spaces_between_special_tokens": False,
    }


def test_vllm_text_keeps_special_tokens():
    request = backend("vllm").build_request("<s>Q: 2+2?\nA:", params(endpoint_type="text", tokens_to_generate=32))
    assert request.path == "/completions"
    assert request.payload == {
        "model": "my-model",
        "prompt": "<s>Q: 2+2?\nA:",
        "temperature": 0.0,
        "top_p": 0.95,
        "seed": 0,
        "max_tokens": 32,
        "min_p": 0.0,
        "repetition_penalty": 1.0,
        "skip_special_tokens": False,
        "spaces_between_special_tokens": False,
    }


@pytest.mark.parametrize("server_type", SELF_HOSTED)
def test_self_hosted_sampling_extensions_are_top_level(server_type):
    inference = params(
        temperature=0.6,
        top_p=0.9,
        top_k=20,
        min_p=0.05,
        repetition_penalty=1.1,
        random_seed=7,
        tokens_to_generate=128,
        stop_phrases=["</answer>", "\n\n"],
        reasoning_effort="low",
    )
    payload = backend(server_type).build_request(MESSAGES, inference).payload
    expected = {
        "temperature": 0.6,
        "top_p": 0.9,
        "top_k": 20,
        "min_p": 0.05,
        "repetition_penalty": 1.1,
        "seed": 7,
        "max_tokens": 128,
        "stop": ["</answer>", "\n\n"],
        "reasoning_effort": "low",
    }
    assert {key: payload[key] for key in expected} == expected
    assert "extra_body" not in payload
    assert "logprobs" not in payload and "top_logprobs" not in payload


@pytest.mark.parametrize("server_type", SELF_HOSTED)
@pytest.mark.parametrize("top_k", [-1, 0])
def test_self_hosted_top_k_sent_only_when_positive(server_type, top_k):
    payload = backend(server_type).build_request(MESSAGES, params(top_k=top_k)).payload
    assert "top_k" not in payload
    assert payload["min_p"] == 0.0 and payload["repetition_penalty"] == 1.0


@pytest.mark.parametrize("server_type", SELF_HOSTED)
def test_self_hosted_logprobs_chat_vs_completions(server_type):
    chat = backend(server_type).build_request(MESSAGES, params(top_logprobs=3)).payload
    assert chat["logprobs"] is True
    assert chat["top_logprobs"] == 3
    text = (
        backend(server_type)
        .build_request("Q:", params(endpoint_type="text", tokens_to_generate=8, top_logprobs=3))
        .payload
    )
    assert text["logprobs"] == 3
    assert "top_logprobs" not in text


def test_logprobs_of_sampled_tokens_only():
    chat = backend("vllm").build_request(MESSAGES, params(top_logprobs=0)).payload
    assert chat["logprobs"] is True and chat["top_logprobs"] == 0
    text = backend("vllm").build_request("Q:", params(endpoint_type="text", tokens_to_generate=8, top_logprobs=0))
    assert text.payload["logprobs"] == 0


@pytest.mark.parametrize("server_type", ["sglang", "trtllm"])
def test_sglang_and_trtllm_get_no_vllm_only_fields(server_type):
    text = backend(server_type).build_request("Q:", params(endpoint_type="text", tokens_to_generate=8)).payload
    assert "skip_special_tokens" not in text
    assert "spaces_between_special_tokens" not in text


@pytest.mark.parametrize("server_type", SELF_HOSTED + ["generic", "openai", "gemini"])
def test_extra_body_is_merged_last(server_type):
    inference = params(
        top_p=0.9,
        tokens_to_generate=16,
        extra_body={"top_p": 0.5, "max_tokens": 99, "chat_template_kwargs": {"enable_thinking": False}},
    )
    payload = backend(server_type, model="gpt-4o").build_request(MESSAGES, inference).payload
    assert payload["top_p"] == 0.5
    assert payload["max_tokens"] == 99
    assert payload["chat_template_kwargs"] == {"enable_thinking": False}


def test_vllm_extra_body_overrides_its_own_defaults():
    inference = params(
        endpoint_type="text", tokens_to_generate=8, extra_body={"skip_special_tokens": True, "top_k": 5, "min_p": 0.2}
    )
    payload = backend("vllm").build_request("Q:", inference).payload
    assert payload["skip_special_tokens"] is True
    assert payload["top_k"] == 5
    assert payload["min_p"] == 0.2


@pytest.mark.parametrize("server_type", SELF_HOSTED + ["generic"])
def test_self_hosted_base_url(server_type):
    assert backend(server_type).base_url() == "http://127.0.0.1:5000/v1"
    assert backend(server_type, host="10.0.0.2", port=8001).base_url() == "http://10.0.0.2:8001/v1"
    assert backend(server_type, base_url="http://node:9000/v1/").base_url() == "http://node:9000/v1"


@pytest.mark.parametrize("server_type", SELF_HOSTED + ["generic", "megatron"])
def test_self_hosted_headers(server_type, monkeypatch):
    assert backend(server_type).headers() == {}
    monkeypatch.setenv("MY_KEY", "token-123")
    assert backend(server_type, api_key_env_var="MY_KEY").headers() == {"Authorization": "Bearer token-123"}


def test_named_api_key_variable_must_be_set():
    with pytest.raises(ConfigError) as error:
        backend("vllm", api_key_env_var="MY_KEY").headers()
    assert "MY_KEY" in str(error.value)


@pytest.mark.parametrize("server_type", SELF_HOSTED + ["generic"])
def test_self_hosted_accept_every_sampling_parameter(server_type):
    backend(server_type).validate(params(top_k=5, min_p=0.1, repetition_penalty=1.2, reasoning_effort="high"))
    backend(server_type).validate(params(endpoint_type="text", tokens_to_generate=10))


def test_unknown_endpoint_type_rejected():
    with pytest.raises(ConfigError, match="endpoint_type=embeddings"):
        backend("vllm").validate(params(endpoint_type="embeddings"))


@pytest.mark.parametrize("server_type", SELF_HOSTED + ["generic", "openai", "megatron"])
def test_text_endpoint_needs_tokens_to_generate(server_type):
    with pytest.raises(ConfigError, match="tokens_to_generate"):
        backend(server_type, base_url="http://x/v1").validate(params(endpoint_type="text"))


def test_prompt_shape_must_match_endpoint():
    with pytest.raises(ConfigError, match="list of messages"):
        backend("vllm").build_request("a string", params())
    with pytest.raises(ConfigError, match="string prompt"):
        backend("vllm").build_request(MESSAGES, params(endpoint_type="text", tokens_to_generate=8))


# ---------------------------------------------------------------- generic OpenAI-compatible


def test_generic_sends_only_standard_fields_by_default():
    payload = backend("generic").build_request(MESSAGES, params(tokens_to_generate=10)).payload
    assert payload == {
        "model": "my-model",
        "messages": MESSAGES,
        "temperature": 0.0,
        "top_p": 0.95,
        "seed": 0,
        "max_tokens": 10,
    }


def test_generic_sends_extensions_only_when_set():
    payload = backend("generic").build_request(MESSAGES, params(top_k=4, repetition_penalty=1.3)).payload
    assert payload["top_k"] == 4
    assert payload["repetition_penalty"] == 1.3
    assert "min_p" not in payload


# ---------------------------------------------------------------- hosted APIs


@pytest.mark.parametrize("server_type", HOSTED)
@pytest.mark.parametrize(("name", "value"), [("top_k", 40), ("min_p", 0.1), ("repetition_penalty", 1.05)])
def test_hosted_reject_server_extensions_naming_the_key(server_type, name, value, monkeypatch):
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", "https://res.openai.azure.com")
    with pytest.raises(ConfigError) as error:
        backend(server_type).validate(params(**{name: value}))
    assert f"++inference.{name}" in str(error.value)
    assert repr(value) in str(error.value)


@pytest.mark.parametrize("server_type", HOSTED)
def test_hosted_payload_never_has_server_extensions(server_type, monkeypatch):
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", "https://res.openai.azure.com")
    hosted = backend(server_type, model="gpt-4o")
    inference = params(tokens_to_generate=10, top_logprobs=2)
    hosted.validate(inference)
    payload = hosted.build_request(MESSAGES, inference).payload
    assert not set(EXTENSIONS) & set(payload)
    assert "skip_special_tokens" not in payload and "spaces_between_special_tokens" not in payload
    assert payload["logprobs"] is True and payload["top_logprobs"] == 2


def test_openai_chat_model_keeps_sampling():
    payload = (
        backend("openai", model="gpt-4o")
        .build_request(MESSAGES, params(temperature=0.3, tokens_to_generate=50, stop_phrases=["END"]))
        .payload
    )
    assert payload == {
        "model": "gpt-4o",
        "messages": MESSAGES,
        "temperature": 0.3,
        "top_p": 0.95,
        "seed": 0,
        "max_tokens": 50,
        "stop": ["END"],
    }


@pytest.mark.parametrize("model", ["o1", "o3-mini", "o4-mini", "gpt-5", "gpt-5-mini", "openai/o3-mini"])
def test_openai_reasoning_model_request(model):
    openai = backend("openai", model=model)
    inference = params(temperature=0.7, top_p=0.8, tokens_to_generate=256, reasoning_effort="high")
    openai.validate(inference)
    messages = [dict(message) for message in MESSAGES]
    payload = openai.build_request(messages, inference).payload
    assert payload == {
        "model": model,
        "messages": [{"role": "developer", "content": "Be brief."}, {"role": "user", "content": "2+2?"}],
        "seed": 0,
        "max_completion_tokens": 256,
        "reasoning_effort": "high",
    }
    assert messages == MESSAGES  # the caller's messages are not modified


@pytest.mark.parametrize("model", ["gpt-4o", "gpt-4.1-mini", "my-o1-finetune"])
def test_openai_non_reasoning_models_are_not_mistaken(model):
    payload = backend("openai", model=model).build_request(MESSAGES, params(tokens_to_generate=5)).payload
    assert payload["messages"] == MESSAGES
    assert payload["max_tokens"] == 5 and "max_completion_tokens" not in payload
    assert payload["temperature"] == 0.0


@pytest.mark.parametrize("inference", [params(stop_phrases=["\n"]), params(top_logprobs=1), params(top_logprobs=0)])
def test_openai_reasoning_model_rejects_stop_and_logprobs(inference):
    with pytest.raises(ConfigError, match="Reasoning model 'o3-mini'"):
        backend("openai", model="o3-mini").validate(inference)
    backend("openai", model="gpt-4o").validate(inference)  # fine for a chat model


def test_openai_base_url_and_key(monkeypatch):
    assert backend("openai").base_url() == "https://api.openai.com/v1"
    with pytest.raises(ConfigError, match="OPENAI_API_KEY"):
        backend("openai").headers()
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    assert backend("openai").headers() == {"Authorization": "Bearer sk-test"}
    monkeypatch.setenv("NEMO_SKILLS_OPENAI_BASE_URL", "http://proxy:8000/v1/")
    assert backend("openai").base_url() == "http://proxy:8000/v1"
    assert backend("openai", base_url="http://explicit/v1").base_url() == "http://explicit/v1"


def test_openai_compatible_local_server_needs_no_key():
    local = backend("openai", base_url="http://127.0.0.1:8000/v1")
    assert local.headers() == {}


def test_azure_url_headers_and_api_version(monkeypatch):
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", "azure-secret")
    azure = backend("azureopenai", model="my-deployment", base_url="https://res.openai.azure.com/")
    request = azure.build_request(MESSAGES, params(tokens_to_generate=10))
    assert azure.base_url() + request.path == (
        "https://res.openai.azure.com/openai/deployments/my-deployment/chat/completions?api-version=2024-10-21"
    )
    assert azure.headers() == {"api-key": "azure-secret"}
    assert request.payload["max_tokens"] == 10

    pinned = backend("azureopenai", model="dep", base_url="https://res.openai.azure.com", api_version="2025-01-01")
    assert pinned.build_request(MESSAGES, params()).path == "/chat/completions?api-version=2025-01-01"


def test_azure_endpoint_from_environment(monkeypatch):
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", "https://env.openai.azure.com")
    assert backend("azureopenai", model="dep").base_url() == "https://env.openai.azure.com/openai/deployments/dep"


def test_azure_needs_endpoint_and_key():
    with pytest.raises(ConfigError, match="AZURE_OPENAI_ENDPOINT"):
        backend("azureopenai").base_url()
    with pytest.raises(ConfigError, match="AZURE_OPENAI_API_KEY"):
        backend("azureopenai", base_url="https://res.openai.azure.com").headers()


def test_azure_reasoning_deployment_is_mapped(monkeypatch):
    azure = backend("azureopenai", model="o3-mini", base_url="https://res.openai.azure.com")
    payload = azure.build_request(MESSAGES, params(tokens_to_generate=10)).payload
    assert payload["messages"][0]["role"] == "developer"
    assert payload["max_completion_tokens"] == 10 and "temperature" not in payload


@pytest.mark.parametrize("server_type", ["azureopenai", "gemini"])
def test_chat_only_hosted_apis_reject_text(server_type, monkeypatch):
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", "https://res.openai.azure.com")
    with pytest.raises(ConfigError, match="endpoint_type=text"):
        backend(server_type).validate(params(endpoint_type="text", tokens_to_generate=10))


def test_gemini_url_and_key(monkeypatch):
    monkeypatch.setenv("GEMINI_API_KEY", "gem-key")
    gemini = backend("gemini", model="gemini-2.5-flash")
    assert gemini.base_url() == "https://generativelanguage.googleapis.com/v1beta/openai"
    assert gemini.headers() == {"Authorization": "Bearer gem-key"}
    request = gemini.build_request(MESSAGES, params(tokens_to_generate=10, reasoning_effort="low"))
    assert request.path == "/chat/completions"
    assert request.payload == {
        "model": "gemini-2.5-flash",
        "messages": MESSAGES,
        "temperature": 0.0,
        "top_p": 0.95,
        "seed": 0,
        "max_tokens": 10,
        "reasoning_effort": "low",
    }


def test_gemini_missing_key_names_the_variable():
    with pytest.raises(ConfigError) as error:
        backend("gemini").headers()
    assert "GEMINI_API_KEY" in str(error.value)


def test_gemini_key_never_appears_in_errors(monkeypatch):
    secret = "AIza-very-secret-value"
    monkeypatch.setenv("GEMINI_API_KEY", secret)
    messages = []
    for action in (
        lambda: backend("gemini").validate(params(top_k=3)),
        lambda: backend("gemini").validate(params(endpoint_type="text", tokens_to_generate=3)),
        lambda: backend("gemini").build_request("text", params()),
        lambda: backend("gemini", api_key_env_var="MY_KEY").headers(),
    ):
        with pytest.raises(ConfigError) as error:
            action()
        messages.append(str(error.value))
    assert "MY_KEY" in messages[-1]
    assert all(secret not in message for message in messages)


# ---------------------------------------------------------------- megatron


def test_megatron_root_url_and_text_request():
    megatron = backend("megatron")
    assert megatron.base_url() == "http://127.0.0.1:5000"
    assert backend("megatron", base_url="http://node:5000/").base_url() == "http://node:5000"
    inference = params(endpoint_type="text", tokens_to_generate=64, stop_phrases=["<|eot|>"], top_logprobs=1)
    megatron.validate(inference)
    request = megatron.build_request("Q: 1+1\nA:", inference)
    assert request.path == "/completions"
    assert request.payload == {
        "model": "my-model",
        "prompt": "Q: 1+1\nA:",
        "temperature": 0.0,
        "top_p": 0.95,
        "seed": 0,
        "max_tokens": 64,
        "stop": ["<|eot|>"],
        "logprobs": 1,
    }


def test_megatron_is_text_only():
    with pytest.raises(ConfigError, match="endpoint_type=chat"):
        backend("megatron").validate(params())


@pytest.mark.parametrize(
    ("name", "value"), [("top_k", 1), ("min_p", 0.5), ("repetition_penalty", 1.5), ("reasoning_effort", "low")]
)
def test_megatron_rejects_unsupported(name, value):
    with pytest.raises(ConfigError, match=f"inference.{name}"):
        backend("megatron").validate(params(endpoint_type="text", tokens_to_generate=8, **{name: value}))


# ---------------------------------------------------------------- responses


def test_parse_chat_response_with_reasoning_tool_calls_and_logprobs():
    tool_calls = [{"id": "call_1", "type": "function", "function": {"name": "calc", "arguments": '{"x": 2}'}}]
    body = {
        "choices": [
            {
                "index": 0,
                "finish_reason": "stop",
                "message": {
                    "role": "assistant",
                    "content": "It is 4",
                    "reasoning_content": "2+2=4",
                    "tool_calls": tool_calls,
                },
                "logprobs": {
                    "content": [
                        {
                            "token": "It",
                            "logprob": -0.1,
                            "top_logprobs": [{"token": "It", "logprob": -0.1}, {"token": "The", "logprob": -2.4}],
                        },
                        {"token": " is", "logprob": -0.2, "top_logprobs": [{"token": " is", "logprob": -0.2}]},
                        {"token": " 4", "logprob": -0.05, "top_logprobs": []},
                    ]
                },
            }
        ],
        "usage": {"prompt_tokens": 11, "completion_tokens": 3, "total_tokens": 14},
    }
    result = backend("vllm").parse_response(body, params(top_logprobs=2))
    assert result.generation == "It is 4"
    assert result.reasoning_content == "2+2=4"
    assert result.finish_reason == "stop"
    assert result.num_input_tokens == 11 and result.num_generated_tokens == 3
    assert result.tokens == ["It", " is", " 4"]
    assert result.logprobs == [-0.1, -0.2, -0.05]
    assert result.top_logprobs == [{"It": -0.1, "The": -2.4}, {" is": -0.2}, {}]
    assert result.extra == {"tool_calls": tool_calls}
    assert result.to_record()["tool_calls"] == tool_calls


def test_parse_chat_response_minimal():
    body = {
        "choices": [
            {"message": {"role": "assistant", "content": None, "reasoning": "thinking..."}, "finish_reason": "length"}
        ]
    }
    result = backend("generic").parse_response(body, params())
    assert result.generation == ""
    assert result.reasoning_content == "thinking..."
    assert result.num_generated_tokens is None and result.num_input_tokens is None
    assert result.tokens is None and result.logprobs is None and result.top_logprobs is None
    assert result.stop_reason is None
    assert result.extra == {}
    assert result.to_record() == {
        "generation": "",
        "finish_reason": "length",
        "num_generated_tokens": None,
        "reasoning_content": "thinking...",
    }


def test_parse_chat_logprobs_of_sampled_tokens_only():
    body = {
        "choices": [
            {
                "message": {"content": "ab"},
                "finish_reason": "stop",
                "logprobs": {
                    "content": [
                        {"token": "a", "logprob": -1.0, "top_logprobs": []},
                        {"token": "b", "logprob": -0.5, "top_logprobs": []},
                    ]
                },
            }
        ]
    }
    result = backend("vllm").parse_response(body, params(top_logprobs=0))
    assert result.tokens == ["a", "b"] and result.logprobs == [-1.0, -0.5]
    assert result.top_logprobs is None


def test_parse_completion_response_with_logprobs():
    body = {
        "choices": [
            {
                "text": " 4\n\n",
                "finish_reason": "stop",
                "stop_reason": "Question:",
                "logprobs": {
                    "tokens": [" 4", "\n\n"],
                    "token_logprobs": [-0.01, -0.3],
                    "top_logprobs": [{" 4": -0.01, " 5": -4.6}, {"\n\n": -0.3}],
                    "text_offset": [0, 2],
                },
            }
        ],
        "usage": {"prompt_tokens": 20, "completion_tokens": 2},
    }
    result = backend("vllm").parse_response(body, params(endpoint_type="text", tokens_to_generate=8, top_logprobs=2))
    assert result.generation == " 4\n\n"
    assert result.stop_reason == "Question:"
    assert result.tokens == [" 4", "\n\n"]
    assert result.logprobs == [-0.01, -0.3]
    assert result.top_logprobs == [{" 4": -0.01, " 5": -4.6}, {"\n\n": -0.3}]
    assert (result.num_input_tokens, result.num_generated_tokens) == (20, 2)


def test_parse_completion_without_logprobs():
    body = {"choices": [{"text": "hi", "finish_reason": "length", "logprobs": None}], "usage": None}
    result = backend("megatron").parse_response(body, params(endpoint_type="text", tokens_to_generate=2))
    assert result.generation == "hi"
    assert result.tokens is None and result.logprobs is None
    assert result.num_generated_tokens is None


@pytest.mark.parametrize(
    ("choice_extra", "expected"),
    [
        ({"stop_reason": "</answer>"}, "</answer>"),  # vLLM: the matched stop string
        ({"stop_reason": 128009}, None),  # vLLM: a stop token id
        ({"stop_reason": None}, None),  # vLLM: EOS
        ({"matched_stop": "\n\nQuestion"}, "\n\nQuestion"),  # SGLang
        ({"matched_stop": 2}, None),  # SGLang: a stop token id
        ({}, None),
    ],
)
def test_parse_stop_reason(choice_extra, expected):
    body = {"choices": [{"message": {"content": "x"}, "finish_reason": "stop", **choice_extra}]}
    result = backend("vllm").parse_response(body, params())
    assert result.stop_reason == expected
    assert ("stop_reason" in result.to_record()) == (expected is not None)


@pytest.mark.parametrize("body", [{"choices": []}, {}, {"error": {"message": "overloaded"}}, {"choices": None}])
def test_parse_response_without_choices(body):
    with pytest.raises(ValueError, match="no choices"):
        backend("vllm").parse_response(body, params())
