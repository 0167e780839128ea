# language: vi
@UNITS
Tính năng: Mọi đơn vị hành chính cấp xã được khai báo trong danh mục quốc gia
  Tỉnh khai báo các xã, phường, đặc khu mới trong danh mục của Cổng Dịch vụ công quốc gia với mã
  và tên chính thức, để người dân tìm đúng Ủy ban nhân dân trên Cổng.

  @UNITS-1
  Kịch bản: Tỉnh đã khai báo mọi xã, phường và đặc khu
    Cho hệ thống của tỉnh đã khởi động và kết nối với các nền tảng quốc gia
    Thì mọi đơn vị của tỉnh được khai báo trong danh mục quốc gia với mã và tên chính thức
    Và Cổng không từ chối lần khai báo nào của tỉnh
