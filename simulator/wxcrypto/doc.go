// Package wxcrypto implements WeChat Pay signing and encryption: the APIv2 signature that
// Pay Score front-end extraData still uses, APIv3 request and response signatures and the
// Authorization header, AEAD_AES_256_GCM for notifications and /v3/certificates, and loading
// RSA keys and certificates.
//
// Functions return errors instead of panicking on any input, and the errors say what was
// wrong with the input, because the simulator shows them to developers debugging their
// integration.
package wxcrypto
