// The token as a key custodian (common/key_custody.h), and its object listing.
#include <sodium.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "token/pkcs11_session.h"
#include "token/pkcs11_token.h"

namespace ipn::token {
namespace {

class TokenSigner final : public Ed25519Signer {
 public:
  TokenSigner(std::shared_ptr<Pkcs11Token> token, std::string label,
              const Ed25519PublicKey& public_key)
      : token_(std::move(token)), label_(std::move(label)), public_key_(public_key) {}
  const Ed25519PublicKey& public_key() const override { return public_key_; }
  Result<Ed25519Signature> Sign(std::span<const uint8_t> message) const override {
    return token_->SignEd25519(label_, message);
  }

 private:
  std::shared_ptr<Pkcs11Token> token_;
  std::string label_;
  Ed25519PublicKey public_key_;
};

class TokenWrapper final : public KeyWrapper {
 public:
  TokenWrapper(std::shared_ptr<Pkcs11Token> token, std::string kek_label)
      : token_(std::move(token)), kek_label_(std::move(kek_label)) {}
  std::string Describe() const override {
    return KeyLocator{token_->address(), kek_label_}.Describe();
  }
  Result<std::string> Wrap(const SecretBytes& key) const override {
    return token_->WrapKey(kek_label_, key);
  }
  Result<SecretBytes> Unwrap(std::span<const uint8_t> wrapped) const override {
    return token_->UnwrapKey(kek_label_, wrapped);
  }

 private:
  std::shared_ptr<Pkcs11Token> token_;
  std::string kek_label_;
};

}  // namespace

std::string KeyLocator::Describe() const {
  return address.Describe() + ";object=" + object;
}

Result<KeyLocator> ParseKeyLocator(std::string_view text) {
  const Status malformed = Status::InvalidArgument(
      "a token key is named pkcs11:token=<label>[;module=<path>];object=<label>, not '" +
      std::string(text) + "'");
  constexpr std::string_view kScheme = "pkcs11:";
  if (text.substr(0, kScheme.size()) != kScheme) return malformed;
  text.remove_prefix(kScheme.size());
  KeyLocator locator;
  while (!text.empty()) {
    const size_t end = std::min(text.find(';'), text.size());
    const std::string_view part = text.substr(0, end);
    text.remove_prefix(std::min(end + 1, text.size()));
    const size_t eq = part.find('=');
    if (eq == std::string_view::npos) return malformed;
    const std::string_view name = part.substr(0, eq);
    const std::string value(part.substr(eq + 1));
    if (name == "token") {
      locator.address.token = value;
    } else if (name == "module") {
      locator.address.module = value;
    } else if (name == "object") {
      locator.object = value;
    } else {
      return malformed;
    }
  }
  if (locator.address.token.empty() || locator.object.empty()) return malformed;
  return locator;
}

std::string ConfiguredModule() {
  const char* env = std::getenv("IPN_TOKEN_MODULE");
  return env != nullptr && *env != '\0' ? env : kSoftHsmModule;
}

Status CheckModule(const KeyLocator& locator, const std::string& configured) {
  if (locator.address.module != configured) {
    return Status::PermissionDenied("the key ring names the PKCS#11 module " +
                                    locator.address.module + ", not the configured " + configured +
                                    " (IPN_TOKEN_MODULE / --token-module)");
  }
  return Status::Ok();
}

Result<std::unique_ptr<Ed25519Signer>> Pkcs11Token::MakeSigner(std::string_view label) {
  Result<Ed25519PublicKey> public_key = FindEd25519(label);
  if (!public_key.ok()) return public_key.status();
  // A signature the public half does not verify would be worse than none: check once.
  const uint8_t probe[] = {'i', 'p', 'n', '-', 'p', 'r', 'o', 'b', 'e'};
  Result<Ed25519Signature> signature = SignEd25519(label, probe);
  if (!signature.ok()) return signature.status();
  if (crypto_sign_verify_detached(signature->data(), probe, sizeof(probe), public_key->data()) !=
      0) {
    return Status::Corruption("token " + address_.token + ": the key labelled " +
                              std::string(label) + " does not match its public key");
  }
  return std::unique_ptr<Ed25519Signer>(
      new TokenSigner(shared_from_this(), std::string(label), *public_key));
}

Result<std::unique_ptr<KeyWrapper>> Pkcs11Token::MakeWrapper(std::string_view kek_label) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto kek = session_->Find(CKO_SECRET_KEY, kek_label);
    if (!kek.ok()) return kek.status();
    if (!kek->has_value()) {
      return Status::NotFound("token " + address_.token + " holds no key-encryption key labelled " +
                              std::string(kek_label));
    }
  }
  return std::unique_ptr<KeyWrapper>(new TokenWrapper(shared_from_this(), std::string(kek_label)));
}

Result<std::vector<TokenObject>> Pkcs11Token::List() {
  std::lock_guard<std::mutex> lock(mu_);
  Session& s = *session_;
  auto handles = s.FindAll();
  if (!handles.ok()) return handles.status();
  std::vector<TokenObject> objects;
  for (CK_OBJECT_HANDLE h : *handles) {
    TokenObject o;
    auto label = s.Attribute(h, CKA_LABEL);
    auto cls = s.Attribute(h, CKA_CLASS);
    auto type = s.Attribute(h, CKA_KEY_TYPE);
    auto sensitive = s.Attribute(h, CKA_SENSITIVE);
    auto extractable = s.Attribute(h, CKA_EXTRACTABLE);
    if (!label.ok() || !cls.ok() || !type.ok() || !sensitive.ok() || !extractable.ok()) {
      return Status::Internal("cannot read the attributes of a token object");
    }
    if (label->has_value()) o.label = **label;
    auto ulong_of = [](const std::optional<std::string>& v) -> CK_ULONG {
      CK_ULONG x = ~CK_ULONG{0};
      if (v && v->size() == sizeof(x)) std::memcpy(&x, v->data(), sizeof(x));
      return x;
    };
    auto bool_of = [](const std::optional<std::string>& v) { return v && !v->empty() && (*v)[0]; };
    const CK_ULONG c = ulong_of(*cls);
    const CK_ULONG t = ulong_of(*type);
    o.sensitive = bool_of(*sensitive);
    o.extractable = bool_of(*extractable);
    if (t == CKK_EC_EDWARDS && c == CKO_PRIVATE_KEY) {
      o.kind = "ed25519-private";
    } else if (t == CKK_EC_EDWARDS && c == CKO_PUBLIC_KEY) {
      o.kind = "ed25519-public";
      auto point = s.Attribute(h, CKA_EC_POINT);
      if (point.ok() && point->has_value() && (*point)->size() == 34) {
        Ed25519PublicKey k;
        std::memcpy(k.data(), (*point)->data() + 2, 32);
        o.public_key = k;
      }
    } else if (t == CKK_AES && c == CKO_SECRET_KEY) {
      o.kind = "aes-kek";
    } else {
      o.kind = "other";
    }
    objects.push_back(std::move(o));
  }
  return objects;
}

}  // namespace ipn::token
