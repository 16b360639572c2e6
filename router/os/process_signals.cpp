// placeholder until the adapters land
namespace weft {}
