package main
import (
 _ "github.com/apache/arrow-go/v18/arrow/array"
 _ "github.com/apache/arrow-go/v18/arrow/ipc"
 _ "github.com/apache/arrow-go/v18/arrow/compute"
 _ "github.com/apache/arrow-go/v18/parquet/pqarrow"
 _ "github.com/apache/arrow-go/v18/arrow/csv"
 _ "github.com/klauspost/compress/zstd"
 _ "github.com/xeipuuv/gojsonschema"
 _ "github.com/dlclark/regexp2"
 _ "github.com/clipperhouse/uax29/v2/words"
 _ "github.com/goccy/go-yaml"
 _ "github.com/schollz/progressbar/v3"
 _ "golang.org/x/text/unicode/norm"
)
func main(){}
