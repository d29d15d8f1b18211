// Validates an OpenAPI 3 document against the specification's schema and rules
// (@apidevtools/swagger-parser). Usage: node validate.mjs FILE
import SwaggerParser from "@apidevtools/swagger-parser";

const file = process.argv[2];
try {
  const api = await SwaggerParser.validate(file);
  const operations = Object.values(api.paths).reduce((n, item) => n + Object.keys(item).length, 0);
  console.log(`openapi: ${file} is valid OpenAPI ${api.openapi}: ${Object.keys(api.paths).length} paths, ${operations} operations`);
} catch (error) {
  console.error(`openapi: ${file} is not valid: ${error.message}`);
  process.exit(1);
}
