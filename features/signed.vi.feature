# language: vi
@SIGNED
Tính năng: Mọi kết quả đều được ký số và thuộc đúng hồ sơ của nó
  Không hồ sơ nào được đóng mà không đính kèm kết quả của chính nó, do người có thẩm quyền ký bằng
  chứng thư số của tổ chức chứng thực chuyên dùng Chính phủ, cấp cho cán bộ của chính tỉnh đã giải
  quyết hồ sơ.

  @SIGNED-1
  Kịch bản: Kết quả hồ sơ của mọi xã được chọn được ký số và mang mã hồ sơ của nó
    Cho mọi xã được chọn của tỉnh đã thực hiện hành trình của công dân
    Thì mỗi kết quả trên Cổng được ký bằng chứng thư của tổ chức chứng thực Chính phủ, còn nguyên vẹn, và ghi đúng hồ sơ của nó
